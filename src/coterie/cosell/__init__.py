"""Co-selling: partner programs, joint sales plans, goals, account plans, leads, deal registration."""
