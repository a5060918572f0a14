"""Ideation: joint solutions and campaigns proposed to a partner program by any user of a
participating company, endorsed by colleagues and partners, and triaged by the program's host
into its workflow (accepted: a record of the kind) or declined with a reason.

- `schemas`: the API shapes; `visibility`: who sees a program's ideas (the host's rule) as one
  SQL condition over the gate; `settings`: the host's choice of that rule;
  `proposals`: propose, read and list; `endorsements`: endorse and withdraw;
  `triage`: accept and decline, each claiming the idea's row in SQL;
  `notices`: what a notification about an idea shows its recipient; `api` and `pages`.
"""
