"""A company's export of all its data (issue 14, "portability"): an admin asks for it from the
settings page or the API, the worker builds a zip of JSON and CSV in the background, and the
admin downloads it by a signed link that expires.

- `contents`: what the zip holds, read as the company through the same read paths as the
  API (the gate, the records presenters, comments, goals, saved reports, the audit log).
- `zipfile_writer`: JSON arrays and CSV streamed into zip entries (memory stays flat).
- `builder`: the background job (claim, progress, finish or fail, the e-mail).
- `service`: request, list, read, the signed download link, expiry clean-up.
- `api`, `pages`, `routes`: the JSON routes and the settings tab.
"""
