"""A user's display and notification preferences, stored as JSON and validated here."""

from __future__ import annotations

from typing import Any, Literal
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, field_validator


class Preferences(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hide_private_fields: bool = False
    email_notifications: Literal["immediate", "daily", "off"] = "immediate"
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        if value != "UTC" and value not in available_timezones():
            raise ValueError("is not an IANA time zone name, e.g. Europe/Paris")
        return value


class PreferencesPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hide_private_fields: bool | None = None
    email_notifications: Literal["immediate", "daily", "off"] | None = None
    timezone: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        return None if value is None else Preferences._known_timezone(value)


def read(stored: dict[str, Any] | None) -> Preferences:
    known = {k: v for k, v in (stored or {}).items() if k in Preferences.model_fields}
    return Preferences.model_validate(known)


def apply(stored: dict[str, Any] | None, patch: PreferencesPatch) -> dict[str, Any]:
    merged = read(stored).model_dump() | patch.model_dump(exclude_unset=True, exclude_none=True)
    return _kept(stored) | Preferences.model_validate(merged).model_dump()


# Panels a user hid (e.g. the home page's "Get started"): stored beside the preferences above,
# not part of the API's preferences body.
DISMISSED = "dismissed_panels"


def _kept(stored: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (stored or {}).items() if k == DISMISSED}


def is_dismissed(stored: dict[str, Any] | None, panel: str) -> bool:
    panels = (stored or {}).get(DISMISSED)
    return isinstance(panels, list) and panel in panels


def set_dismissed(stored: dict[str, Any] | None, panel: str, dismissed: bool) -> dict[str, Any]:
    """A new preferences dict (assign it: the JSON column tracks replacement, not mutation)."""
    current = dict(stored or {})
    panels = current.get(DISMISSED)
    if not isinstance(panels, list):
        panels = []
    kept = [p for p in panels if isinstance(p, str) and p != panel]
    current[DISMISSED] = [*kept, panel] if dismissed else kept
    return current
