"""What activity does when a record is written: the change log and the notices (`records.hooks`),
and when a partnership is asked for or answered (`network.hooks`).

`install()` subscribes; `coterie.wiring.install` calls it at start-up."""

from __future__ import annotations

from coterie.activity import changes, notifications
from coterie.network import hooks as network_hooks
from coterie.records import hooks


def _core_changing(event: hooks.CoreChanging) -> None:
    changes.core_changing(event.session, event.actor, event.record, event.changes)


def _space_applied(event: hooks.SpaceApplied) -> None:
    changes.space_changed(event.session, event.actor, event.kind, event.space, event.keys)


def _participant_status(event: hooks.ParticipantStatus) -> None:
    changes.participant_status(
        event.session,
        event.actor,
        event.kind,
        event.record_id,
        event.company_id,
        event.before,
        event.after,
    )


def _notice(event: hooks.Notice) -> None:
    notifications.notify(
        event.session,
        user_ids=event.user_ids,
        event=event.event,
        record_id=event.record_id,
        kind=event.kind,
        actor=event.actor,
        subject_id=event.subject_id,
    )


def _partnership_notice(event: network_hooks.PartnershipNotice) -> None:
    notifications.notify(
        event.session,
        user_ids=event.user_ids,
        event=event.event,
        record_id=None,
        kind=None,
        actor=event.actor,
        subject_id=event.partnership_id,
        settings=event.settings,
    )


def install() -> None:
    hooks.core_changing.subscribe(_core_changing)
    hooks.space_applied.subscribe(_space_applied)
    hooks.participant_status.subscribe(_participant_status)
    hooks.notice.subscribe(_notice)
    network_hooks.partnership_notice.subscribe(_partnership_notice)
