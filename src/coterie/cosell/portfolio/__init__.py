"""The solutions portfolio: every joint solution the viewer may see with its program, its stage
on the program's workflow, the companies on it, each company's owner, the next step and the
counts per stage; filtered by program, partner, stage and industry (`rows`), as a page
(`pages`, `/solutions/portfolio`) and a route (`api`, `GET /api/v1/solutions/portfolio`)."""
