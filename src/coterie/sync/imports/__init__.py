"""Spreadsheet import (issue 15, scope 8): accounts, leads or opportunities from a CSV or XLSX
file, the first way in for a company without a supported CRM.

- `reader`: the upload: size and row caps, CSV encodings and delimiters, XLSX's first sheet.
- `targets`: the fields a column may fill (labels, not keys), the guessed mapping, and each
  cell's conversion into the value the records service takes (with the column's name on errors).
- `runner`: a dry run or a run, row by row through `coterie.sync.matching` and
  `coterie.records.service` as the importing user; each row in its own savepoint; committed in
  chunks with its progress, inline for small files, in the worker (`imports.run`) for large ones.
- `service`: upload, mapping, start, read, the refused rows as CSV; `api`, `pages`, `routes`.

An import belongs to the user who uploaded it: only they see it (its cells and its outcome
name records they may see), and it runs as them, members included (they create records anyway).
"""
