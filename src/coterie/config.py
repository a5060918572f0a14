"""Settings: every `COTERIE_*` environment variable the service reads, in one typed object.

The secret key is never a constant in code: when `COTERIE_SECRET_KEY` is unset, a random key is
generated on first use and persisted (mode 0600) under the data directory, so sessions, CSRF and
signed tokens survive restarts of a development install.

Under systemd, any setting can also be a credential (`LoadCredential=COTERIE_SECRET_KEY:/etc/...`):
a file named after the variable in `$CREDENTIALS_DIRECTORY`, read when the variable is not set, so
secrets need not sit in an environment file (see docs/deployment.md).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from huey import crontab
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

CRON_FIELDS = 5


class Settings(BaseSettings):
    """Runtime configuration, read from `COTERIE_*` environment variables (and `.env`)."""

    model_config = SettingsConfigDict(
        env_prefix="COTERIE_",
        env_file=".env",
        extra="ignore",
        # systemd's LoadCredential= puts each credential in a file in this directory
        secrets_dir=os.environ.get("CREDENTIALS_DIRECTORY") or None,
    )

    env: Literal["development", "production", "test"] = Field(
        default="development",
        description="`development` also writes every e-mail under data_dir/mail; `production` "
        "or `test` do not.",
    )
    data_dir: Path = Field(
        default=Path("var"),
        description="Where the SQLite file, the generated secret key and development mail live.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty: the SQLite file data_dir/coterie.sqlite3. "
        "`postgresql://...` uses psycopg 3. SQLite: `?timeout=` is how many seconds a writer "
        "waits for the write lock (default 5); PostgreSQL: `?connect_timeout=` (default 10 s).",
    )
    migration_database_url: str = Field(
        default="",
        description="URL that `coterie db upgrade`, `coterie serve --migrate` and `coterie db "
        "grant-app-role` connect with (on PostgreSQL, the role that owns the tables); empty: "
        "database_url. The app itself then connects as a role that owns no tables, so row-level "
        "security applies to it.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs sessions, invitation and reset links, and CSRF tokens. Unset: a random "
        "key is generated on first use and kept in data_dir/secret_key (mode 0600).",
    )
    sync_keys: SecretStr | None = Field(
        default=None,
        description="Encrypts CRM connection credentials at rest: comma-separated Fernet keys, "
        "newest first (`coterie sync new-key` prints one; `coterie sync rotate-keys` re-encrypts "
        "with the first). Unset: one key derived from the signing secret.",
    )
    sync_poll_cron: str = Field(
        default="* * * * *",
        description="How often the worker looks for CRM connections due for a run (each "
        "connection has its own poll interval).",
    )
    host: str = Field(default="127.0.0.1", description="Where `coterie serve` listens.")
    port: int = Field(default=8000, description="The port `coterie serve` listens on.")
    base_url: str = Field(
        default="",
        description="Public URL used in e-mail links; empty: http://HOST:PORT. An `https://` URL "
        "turns on Secure cookies.",
    )
    signup_enabled: bool = Field(default=True, description="Whether new companies may sign up.")
    standard_workflow_at_signup: bool = Field(
        default=True,
        description="Whether a company that signs up gets the standard pipeline workflow for "
        "its opportunities (stages chosen from a list, new opportunities in Qualify). Off: "
        "stages stay free text until an admin sets a workflow up.",
    )

    smtp_host: str = Field(
        default="", description="SMTP server; empty: no SMTP delivery (mail files only)."
    )
    smtp_port: int = Field(default=25, description="SMTP port.")
    smtp_username: str = Field(default="", description="SMTP login, if the server needs one.")
    smtp_password: SecretStr | None = Field(
        default=None, description="SMTP password, if the server needs one."
    )
    smtp_starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS.")
    smtp_ssl: bool = Field(default=False, description="Connect with implicit TLS.")
    smtp_timeout_seconds: float = Field(
        default=10.0, description="How long to wait for the SMTP server."
    )
    mail_from: str = Field(
        default="Coterie <no-reply@coterie.localhost>", description="Sender of every message."
    )
    mail_dir: Path | None = Field(
        default=None,
        description="Also write every message here as an `.eml` file; unset: data_dir/mail in "
        "development, nowhere otherwise.",
    )

    redis_url: str = Field(
        default="",
        description="Redis for the job queue (`redis://host:6379/0`); empty: a SQLite queue file, "
        "data_dir/jobs.sqlite3, for one machine. The durable intent (the outbox) is always in the "
        "database; the queue only wakes the workers.",
    )
    jobs_queue_name: str = Field(
        default="coterie",
        min_length=1,
        max_length=60,
        description="Name of the job queue (the Redis key prefix): installs sharing one Redis "
        "need different names.",
    )
    jobs_immediate: bool = Field(
        default=False,
        description="Run each job at once in the process that asks for it, without a queue or "
        "a worker (tests, debugging). Requests then wait on SMTP: never in production.",
    )
    worker_threads: int = Field(
        default=2, ge=1, le=64, description="Threads of `coterie worker` (jobs run in parallel)."
    )
    outbox_max_attempts: int = Field(
        default=12,
        ge=1,
        description="Attempts to deliver one message before it is dead (with the default "
        "backoff, about a day and a half of retries).",
    )
    outbox_retry_base_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Wait after the first failed attempt; it doubles with every attempt (with "
        "jitter), up to outbox_retry_max_seconds.",
    )
    outbox_retry_max_seconds: float = Field(
        default=21_600.0, gt=0, description="Longest wait between two attempts (6 hours)."
    )
    outbox_lease_seconds: int = Field(
        default=120,
        ge=1,
        description="How long a worker holds a message it is sending; a worker that died "
        "mid-delivery leaves it to another after this. Keep it above smtp_timeout_seconds.",
    )
    outbox_keep_sent_days: int = Field(
        default=30,
        ge=1,
        description="Delivered messages are kept this long (for support questions), then "
        "deleted by the worker's hourly housekeeping.",
    )
    outbox_sweep_cron: str = Field(
        default="* * * * *",
        description="When the worker looks for messages whose wake-up was lost (cron, UTC).",
    )
    outbox_sweep_grace_seconds: float = Field(
        default=60.0,
        ge=0,
        description="The sweeper leaves a message due for less than this to the wake-up queued "
        "with it.",
    )
    digest_cron: str = Field(
        default="0 7 * * *",
        description="When the daily notification digest goes out (cron: minute hour day month "
        "weekday, UTC).",
    )
    registration_expiry_cron: str = Field(
        default="5 * * * *",
        description="When approved deal registrations past their expiry date are marked "
        "expired (cron, UTC).",
    )
    export_cleanup_cron: str = Field(
        default="15 * * * *",
        description="When the files of company exports past their expiry are deleted (cron, UTC).",
    )

    invitation_ttl_hours: int = Field(default=72, description="How long an invitation link works.")
    email_invite_ttl_days: int = Field(
        default=14,
        ge=1,
        le=90,
        description="How long the link of an invitation by e-mail (someone not yet on the "
        "network, onto a partnership or a shared record) works.",
    )
    email_invites_per_day: int = Field(
        default=25,
        ge=1,
        description="Invitations by e-mail one company may send per 24 hours; more are refused "
        "(429) so that Coterie is never a spam relay.",
    )
    password_reset_ttl_minutes: int = Field(
        default=60, description="How long a password reset link works."
    )
    password_reset_mails_per_hour: int = Field(
        default=5,
        ge=1,
        description="Reset e-mails one address receives per hour at most; more requests are "
        "answered the same but send nothing (no mail-bombing).",
    )
    login_token_ttl_days: int = Field(
        default=30, description="Lifetime of the tokens `POST /api/v1/auth/token` gives."
    )
    session_ttl_hours: int = Field(default=12, description="Lifetime of a web session.")
    max_request_bytes: int = Field(
        default=1_048_576, description="A larger request body is refused with 413."
    )
    max_request_header_bytes: int = Field(
        default=65_536,
        ge=1024,
        description="A request line and headers over this many bytes are refused with 431 (by "
        "`coterie serve`).",
    )
    login_failures_per_account: int = Field(
        default=5,
        ge=1,
        description="Failed logins for one account from one address per window, before that "
        "address is refused for that account (429).",
    )
    login_failures_per_address: int = Field(
        default=20,
        ge=1,
        description="Failed logins from one address, whatever the accounts, per window, before "
        "the address is refused.",
    )
    login_failures_per_account_all_addresses: int = Field(
        default=20,
        ge=1,
        description="Failed logins for one account from all addresses per window, before the "
        "account is refused from addresses it has not signed in from recently.",
    )
    login_known_address_days: int = Field(
        default=30,
        ge=0,
        description="For how long a successful sign-in (or password reset) makes its address "
        "known for the account.",
    )
    login_throttle_window_minutes: int = Field(
        default=15, ge=1, description="The login throttling window."
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses and networks (`10.0.0.5`, `10.0.0.0/8`) of the "
        "reverse proxies in "
        "front of the app, whose X-Forwarded-For and X-Forwarded-Proto are believed. Empty: "
        "none, the connecting address is the client's.",
    )
    log_format: Literal["json", "text"] | None = Field(
        default=None,
        description="`json`: one JSON object per log line (time, level, logger, message, "
        "request_id and the access log's fields), for a log collector; `text`: one readable "
        "line. Unset: `json` when env is `production`, `text` otherwise.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO",
        description="The least severe log level written, by the app, uvicorn and the access "
        "log (case-insensitive).",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="A bearer token that `/metrics` requires (`Authorization: Bearer ...`, as "
        "Prometheus sends with `authorization.credentials`). Unset: `/metrics` answers only "
        "requests made directly on the loopback interface, none that came through a proxy.",
    )
    export_ttl_hours: int = Field(
        default=72,
        ge=1,
        description="How long a company export (Settings, Data export) can be downloaded after "
        "it is built; then its link answers 410 and its file is deleted.",
    )
    import_max_bytes: int = Field(
        default=1_000_000,
        ge=1,
        description="A spreadsheet to import (CSV or XLSX) larger than this is refused. Keep it "
        "below max_request_bytes, which every request body obeys.",
    )
    import_max_rows: int = Field(
        default=5_000, ge=1, description="A spreadsheet with more data rows is refused."
    )
    import_background_rows: int = Field(
        default=200,
        ge=0,
        description="A dry run or import of more rows than this runs as a background job (the "
        "page shows its progress); smaller ones run within the request.",
    )
    rule_grant_cap: int = Field(
        default=50_000,
        description="An access or auto-share rule that would share or grant more records at "
        "once is refused.",
    )

    attachments_dir: Path | None = Field(
        default=None,
        description="Where uploaded files (attachments) are kept on the local disk, each under a "
        "name Coterie generates; unset: data_dir/attachments. Not used when "
        "attachments_s3_bucket is set.",
    )
    attachments_max_bytes: int = Field(
        default=25_000_000,
        ge=1,
        description="A file to attach larger than this is refused with 413 (the request body "
        "limit of the upload routes is this plus room for the form around it).",
    )
    attachments_scanner: str = Field(
        default="",
        description="A virus scanner for uploads, as `module:callable`: the callable takes the "
        "settings and returns an object with `scan(stream)` (see docs/attachments.md). An "
        "infected file is refused and nothing is stored. Empty: no scanning.",
    )
    attachments_s3_bucket: str = Field(
        default="",
        description="Keep attachments in this bucket of an S3-compatible store instead of on "
        "the local disk. Empty: the local disk (attachments_dir).",
    )
    attachments_s3_prefix: str = Field(
        default="attachments/", description="The key prefix of attachments in the bucket."
    )
    attachments_s3_endpoint_url: str = Field(
        default="",
        description="The S3-compatible endpoint (`https://s3.example.net`, MinIO, Ceph...); "
        "empty: the client's default for the region.",
    )
    attachments_s3_region: str = Field(
        default="", description="The bucket's region; empty: the client's default."
    )
    attachments_s3_access_key_id: str = Field(
        default="",
        description="The access key id for the bucket; empty: the client's own credential "
        "chain (environment, instance role).",
    )
    attachments_s3_secret_access_key: SecretStr | None = Field(
        default=None, description="The secret access key that goes with the access key id."
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses_or_networks(cls, value: str) -> str:
        for item in _comma_separated(value):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(
                    f"{item!r} is not an IP address or network (like 10.0.0.0/8)"
                ) from exc
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def resolved_log_format(self) -> Literal["json", "text"]:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.env == "production" else "text"

    @field_validator(
        "outbox_sweep_cron",
        "digest_cron",
        "registration_expiry_cron",
        "export_cleanup_cron",
        "sync_poll_cron",
    )
    @classmethod
    def _cron(cls, value: str) -> str:
        fields = value.split()
        if len(fields) != CRON_FIELDS:
            raise ValueError(
                f"{value!r} is not a cron schedule: five fields, minute hour day month weekday "
                "(like '0 7 * * *')"
            )
        try:
            crontab(*fields, strict=True)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a valid cron schedule: {exc}") from exc
        return " ".join(fields)

    @property
    def trusted_proxy_list(self) -> list[str]:
        return _comma_separated(self.trusted_proxies)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'coterie.sqlite3').resolve()}"

    @property
    def resolved_migration_database_url(self) -> str:
        return self.migration_database_url or self.resolved_database_url

    @property
    def resolved_base_url(self) -> str:
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def resolved_mail_dir(self) -> Path | None:
        if self.mail_dir is not None:
            return self.mail_dir
        if self.env == "development":
            return self.data_dir / "mail"
        return None

    @property
    def resolved_attachments_dir(self) -> Path:
        return self.attachments_dir or self.data_dir / "attachments"

    @property
    def secure_cookies(self) -> bool:
        return self.resolved_base_url.startswith("https://")

    def secret(self) -> str:
        """The signing key: configured, or generated once and kept in data_dir/secret_key."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        return _persisted_secret(self.data_dir.resolve())


def _comma_separated(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


@lru_cache(maxsize=8)
def _persisted_secret(data_dir: Path) -> str:
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
