"""What the workflow engine checks when a record is written outside the move route
(`records.hooks`; the checks themselves are `workflows.integration`).

`install()` subscribes; `coterie.wiring.install` calls it at start-up."""

from __future__ import annotations

from coterie.records import hooks
from coterie.workflows import integration


def _record_creating(event: hooks.RecordCreating) -> None:
    integration.new_space_stage(event.session, event.actor, event.kind, event.space.stage)


def _core_changed(event: hooks.CoreChanged) -> None:
    integration.joint_stage_changed(
        event.session, event.actor, event.record, event.joint_stage_before
    )


def _space_changed(event: hooks.SpaceChanged) -> None:
    integration.space_stage_changed(
        event.session, event.actor, event.kind, event.space, event.stage_before
    )


def install() -> None:
    hooks.record_creating.subscribe(_record_creating)
    hooks.core_changed.subscribe(_core_changed)
    hooks.space_changed.subscribe(_space_changed)
