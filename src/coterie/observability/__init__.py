"""Observability: Prometheus metrics, structured logs with request ids, and what `/metrics`,
`/readyz` and the access log are built from.

- `logs`: `configure_logging(settings)` for `coterie serve` (and `coterie worker`), text or JSON.
- `middleware`: one ASGI middleware per request: its id, its metrics, its access-log line.
- `metrics`: the HTTP, database-pool and process metrics, single- or multi-process.
- `backlog`: the job queue and outbox metrics, read when Prometheus scrapes.
- `scrape`: the `/metrics` endpoint and who may read it.
"""
