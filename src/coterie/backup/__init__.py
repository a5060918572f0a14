"""Backups and restores of the whole database: `coterie backup` and `coterie restore`.

SQLite (the embedded default) is copied with SQLite's online backup API (`sqlite`), PostgreSQL
with `pg_dump --format=custom` and `pg_restore` (`postgres`), both as the tables' owner. Before
anything is touched, an archive is verified (`archive`: what kind it is; each engine: that it is
whole and a Coterie database) and its schema revision checked against the code (`revisions`).
`operations` chooses the engine from the configured URL and says what was written.
"""
