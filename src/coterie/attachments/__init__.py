"""Attachments: files uploaded to a shared record, a comment on one, or another domain's subject
(a fund claim), stored on the local disk or an S3-compatible store, sniffed, size-limited and
optionally virus-scanned on the way in, and downloaded only through the gate.

- `subjects`: the registry of what a file can hang on, and the contract another domain fulfils
  to register its own kind of subject (see its docstring and docs/attachments.md).
- `service`: the use cases, `attach`, `list_for`, `get`, `open_content`, `delete`; plain
  functions with stable names that other domains call; `committed`: attach and delete as a
  request's whole write (commit, and the store kept in step).
- `storage` (the `Store` protocol, local disk and S3), `sniffing` (allowed types by content),
  `scanning` (the `Scanner` hook), `filenames` (sanitised names, `Content-Disposition`).
"""
