"""Where export files live: data_dir/exports/<company id>/<export id>.zip; a build writes
`<export id>.<attempt>.partial` first and renames it once complete."""

from __future__ import annotations

import uuid
from pathlib import Path

from coterie.config import Settings

FOLDER = "exports"


def relative_path(company_id: uuid.UUID, export_id: uuid.UUID) -> str:
    return f"{FOLDER}/{company_id}/{export_id}.zip"


def absolute(settings: Settings, relative: str) -> Path:
    return settings.data_dir.resolve() / relative


def partial_path(
    settings: Settings, company_id: uuid.UUID, export_id: uuid.UUID, attempt: int
) -> Path:
    return settings.data_dir.resolve() / FOLDER / str(company_id) / f"{export_id}.{attempt}.partial"


def download_name(company_domain: str, export_id: uuid.UUID, created: str) -> str:
    return f"coterie-export-{company_domain}-{created}.zip"
