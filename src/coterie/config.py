"""Settings: every `COTERIE_*` environment variable the service reads, in one typed object.

The secret key is never a constant in code: when `COTERIE_SECRET_KEY` is unset, a random key is
generated on first use and persisted (mode 0600) under the data directory, so sessions, CSRF and
signed tokens survive restarts of a development install.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration, read from `COTERIE_*` environment variables (and `.env`)."""

    model_config = SettingsConfigDict(env_prefix="COTERIE_", env_file=".env", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    data_dir: Path = Field(
        default=Path("var"), description="Where the SQLite file, mail and keys live."
    )
    database_url: str = Field(
        default="", description="SQLAlchemy URL; default SQLite under data_dir."
    )
    migration_database_url: str = Field(
        default="",
        description="URL migrations run with (the tables' owner); default database_url. On "
        "PostgreSQL the app connects as a role that owns no tables, so row-level security applies.",
    )
    secret_key: SecretStr | None = Field(default=None, description="Signs sessions and tokens.")
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str = Field(default="", description="Public URL used in e-mail links.")
    signup_enabled: bool = True

    smtp_host: str = Field(default="", description="Empty: no SMTP delivery (files only).")
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "Coterie <no-reply@coterie.localhost>"
    mail_dir: Path | None = Field(
        default=None,
        description="Also write every message here; default data_dir/mail in development.",
    )

    invitation_ttl_hours: int = 72
    password_reset_ttl_minutes: int = 60
    login_token_ttl_days: int = 30
    session_ttl_hours: int = 12
    max_request_bytes: int = 1_048_576
    max_request_header_bytes: int = Field(
        default=65_536,
        ge=1024,
        description="A request line and headers over this many bytes are refused with 431.",
    )
    login_failures_per_account: int = Field(
        default=5,
        ge=1,
        description="Failed logins for one account from one address per window, before that "
        "address is refused for that account.",
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
        description="For how long a successful sign-in makes its address known for the account.",
    )
    login_throttle_window_minutes: int = Field(default=15, ge=1)
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses and networks (CIDR) of the reverse proxies in "
        "front of the app, whose X-Forwarded-For and X-Forwarded-Proto are believed. Empty: "
        "none, the connecting address is the client's.",
    )
    rule_grant_cap: int = Field(
        default=50_000,
        description="A rule that would share or grant more records at once is refused.",
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
