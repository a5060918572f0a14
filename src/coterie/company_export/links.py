"""The signed download link of a finished export: its id signed with the secret key
(itsdangerous, `auth.signing`), good until the export expires. The link alone is not enough:
the download also needs a signed-in admin of the export's company."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from coterie.auth import signing
from coterie.config import Settings
from coterie.kit.problems import Problem

PURPOSE = "company-export"
PAGE_PATH = "/settings/data-export/{id}/download"
API_PATH = "/api/v1/company-exports/{id}/download"


def token(settings: Settings, export_id: uuid.UUID) -> str:
    return signing.sign(settings.secret(), PURPOSE, {"export": str(export_id)})


def page_url(settings: Settings, export_id: uuid.UUID) -> str:
    """The link the e-mail and the settings page give (a browser, signed in)."""
    query = urlencode({"token": token(settings, export_id)})
    return f"{settings.resolved_base_url}{PAGE_PATH.format(id=export_id)}?{query}"


def api_url(settings: Settings, export_id: uuid.UUID) -> str:
    """The link the API gives (a client with a bearer token)."""
    query = urlencode({"token": token(settings, export_id)})
    return f"{settings.resolved_base_url}{API_PATH.format(id=export_id)}?{query}"


def check(settings: Settings, export_id: uuid.UUID, given: str) -> None:
    """400 unless `given` is this export's link token. Its lifetime is the export's own expiry,
    checked by the caller; a link older than the setting allows (and a day) answers 410 here."""
    try:
        payload = signing.unsign(
            settings.secret(),
            PURPOSE,
            given,
            max_age_seconds=settings.export_ttl_hours * 3600 + 86400,
        )
    except Problem as exc:
        if exc.slug != "token-expired":
            raise
        raise Problem(
            410,
            "export-expired",
            "Export expired",
            "This export's link has expired and its file was deleted. Ask for a new one in "
            "Settings, Data export.",
        ) from exc
    if payload.get("export") != str(export_id):
        raise Problem(400, "token-invalid", "Invalid token", "This link is not valid.")
