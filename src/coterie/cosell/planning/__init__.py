"""Joint planning in co-selling: partner programs, joint sales plans, their goals and linked
records, account plans, and each company's exchange rates (its currency view)."""
