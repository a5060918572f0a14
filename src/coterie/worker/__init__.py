"""Background work: the job queue (Huey), the tasks it runs, outbox delivery and schedules.

- `queue`: the Huey instance for the settings (RedisHuey with `COTERIE_REDIS_URL`, SqliteHuey
  on data_dir/jobs.sqlite3 otherwise, in-memory and immediate with `COTERIE_JOBS_IMMEDIATE`),
  wrapped as the `Jobs` that sends the wake-ups of `coterie.kit.jobs` and runs the tasks.
- `tasks`: every task by name, and the periodic ones with their cron schedule from settings.
- `delivery`: one attempt to deliver an outbox row, and the sweeper for lost wake-ups.
- `runner`: `coterie worker` (the consumer), and the worker that `coterie serve --with-worker`
  starts beside the web server.

The durable intent is always in our tables (outbox rows, export rows): a task finds its work
there, so a lost or repeated wake-up loses nothing and does nothing twice.
"""
