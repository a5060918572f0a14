"""The three-way merge of one field: Coterie's value, the CRM's value, and the shadow (both
sides' values the last time they agreed).

Pure functions over canonical values. A side "changed" when its value differs from its shadow
(never synced: both changed). Only one side changed: it flows to the other, if the field's
direction lets it. Both changed to the same value: they agree. Both changed differently: the
field's owner wins and the loser's value is reported as a conflict (a one-way field is owned
by the side it flows from, and is no conflict).

Echo suppression follows from the shadow: after a push, the shadow holds what we sent, so the
CRM sending it back is no change; a CRM automation that rewrote the field holds a different
value, which is a real change. A value that flows nowhere (an into-the-CRM field the CRM
rewrote) only moves the shadow: it is not pushed again until Coterie's value changes, so an
automation and the sync never loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from coterie.sync.mapping import FieldMap, Owner, canonical, to_local


@dataclass(frozen=True)
class Shadow:
    local: Any
    remote: Any


@dataclass(frozen=True)
class Conflict:
    base: Any
    coterie: Any
    crm: Any
    winner: Owner


@dataclass(frozen=True)
class Outcome:
    """What to do for one field after a pull: write `into_coterie` (unless None), push Coterie's
    value later (`push`), and keep `shadow` (Coterie's value, the CRM's value) as the new base."""

    into_coterie: tuple[Any] | None
    push: bool
    shadow: Shadow
    conflict: Conflict | None = None


def merge(field: FieldMap, base: Shadow | None, local: Any, remote: Any) -> Outcome:
    """`local` is Coterie's canonical value, `remote` the CRM's (in the CRM's terms)."""
    remote = canonical(remote)
    incoming = to_local(field, remote)
    local_changed = base is None or local != base.local
    remote_changed = base is None or remote != base.remote
    if not remote_changed:
        # unchanged in the CRM: Coterie's change (if any) is the push's business
        return Outcome(None, local_changed and field.goes_out, base or Shadow(local, remote))
    if incoming == local:
        return Outcome(None, False, Shadow(local, remote))
    if not local_changed or (base is None and local is None):
        if field.comes_in:
            return Outcome((incoming,), False, Shadow(incoming, remote))
        return Outcome(None, False, Shadow(local, remote))
    # both changed, differently
    if base is None and incoming is None:
        return Outcome(None, field.goes_out, Shadow(None, remote))
    if not field.comes_in:
        return Outcome(None, True, Shadow(base.local if base else None, remote))
    if not field.goes_out:
        return Outcome((incoming,), False, Shadow(incoming, remote))
    conflict = Conflict(base.local if base else None, local, incoming, field.owner)
    if field.owner == Owner.CRM:
        return Outcome((incoming,), False, Shadow(incoming, remote), conflict)
    return Outcome(None, True, Shadow(base.local if base else None, remote), conflict)
