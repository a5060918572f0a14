"""Marketing development funds (MDF): a funding company's budgets per program, period and
currency, its allocations to partners, the partners' fund requests and their claims, payment,
deadlines and extensions, and the return on each fund.

A fund request involves exactly two companies, the requester and the funder; `access` is the
one module that reads the fund tables, always as one of them (the guard refuses any other
read). Approvals claim budget in one SQL statement, so a budget is never over-committed.
"""
