"""Co-selling: partner programs, joint sales plans and goals, account plans, leads and deal
registration."""
