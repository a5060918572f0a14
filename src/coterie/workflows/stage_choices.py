"""The stages a company's forms offer for its own `stage` of a kind: its active workflow's
stages by label, in order (`coterie.records.forms` asks; `install()` answers, at start-up)."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from coterie.records import forms
from coterie.workflows.stages import company_definition, infos


def choices(session: Session, company_id: uuid.UUID, kind: str) -> list[tuple[str, str]] | None:
    """(key, label) of each stage of the company's active workflow for `kind`; None without
    one (the stage is then free text, as the server accepts any)."""
    definition = company_definition(session, company_id, kind)
    if definition is None:
        return None
    return [(stage.key, stage.name) for stage in infos(definition.stages)]


def install() -> None:
    forms.install_stage_choices(choices)
