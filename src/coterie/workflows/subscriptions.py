"""What the workflow engine checks when a record is written outside the move route
(`records.hooks`; the checks themselves are `workflows.integration`), and the standard
workflow a new company starts with (`network.hooks`).

`install()` subscribes; `coterie.wiring.install` calls it at start-up."""

from __future__ import annotations

from coterie.network import hooks as network_hooks
from coterie.records import hooks
from coterie.workflows import definitions, integration


def _company_created(event: network_hooks.CompanyCreated) -> None:
    if event.settings.standard_workflow_at_signup:
        definitions.install_standard(event.session, event.company.id, event.admin.id)


def _record_creating(event: hooks.RecordCreating) -> None:
    integration.new_space_stage(event.session, event.actor, event.kind, event.space, event.record)


def _record_created(event: hooks.RecordCreated) -> None:
    integration.new_record_written(event.session, event.actor, event.record)


def _core_changed(event: hooks.CoreChanged) -> None:
    integration.joint_stage_changed(
        event.session, event.actor, event.record, event.joint_stage_before
    )


def _space_changed(event: hooks.SpaceChanged) -> None:
    integration.space_stage_changed(
        event.session, event.actor, event.kind, event.space, event.stage_before
    )


def install() -> None:
    network_hooks.company_created.subscribe(_company_created)
    hooks.record_creating.subscribe(_record_creating)
    hooks.record_created.subscribe(_record_created)
    hooks.core_changed.subscribe(_core_changed)
    hooks.space_changed.subscribe(_space_changed)
