"""What a notification says and where it links: one sentence per event, in words a partner
manager reads (never a raw key), and the page where the recipient acts on it."""

from __future__ import annotations

import uuid

from coterie.fields.kinds import KINDS, Kind

EVENT_PHRASES = {
    "mention": "mentioned you on",
    "comment": "commented on",
    "invitation": "invited your company to",
    "approval_requested": "asked for your approval on",
    "approval_decided": "decided an approval on",
    "nomination": "nominated",
    "registration": "asked your company to approve a deal registration on",
    "registration_decided": "decided your deal registration on",
    "proposal": "proposed a company for",
    "proposal_decided": "decided your company's proposal on",
    "joined": "joined",
    "invitation_accepted": "accepted your invitation to",
    "invitation_declined": "declined your invitation to",
    "partnership_invitation": "wants to partner with your company on Coterie",
    "partnership_accepted": "accepted your company's partnership invitation",
    "partnership_declined": "declined your company's partnership invitation",
    "idea_proposed": "proposed an idea to",
    "idea_accepted": "accepted your idea for",
    "idea_declined": "declined your idea for",
    "fund_request_submitted": "submitted a fund request to your company",
    "fund_request_decided": "decided on your company's fund request",
    "fund_claim_submitted": "submitted a fund claim to your company",
    "fund_claim_decided": "decided on your company's fund claim",
    "fund_claim_paid": "marked your company's fund claim paid",
    "fund_extension_requested": "asked your company to extend a claim deadline",
    "fund_extension_decided": "decided on your company's claim deadline extension",
}
# seen by the invited company through the invitation view while it is invited
INVITATION_EVENTS = ("invitation", "nomination")
PARTNERSHIP_EVENTS = ("partnership_invitation", "partnership_accepted", "partnership_declined")
# about a fund request (`subject_id`): the sentence names no record, amount or note
FUND_EVENTS = tuple(event for event in EVENT_PHRASES if event.startswith("fund_"))


def phrase(event: str) -> str:
    return EVENT_PHRASES.get(event, "updated")


def record_url(kind: str | None, record_id: uuid.UUID | None) -> str | None:
    if kind is None or record_id is None:
        return None
    try:
        info = KINDS[Kind(kind)]
    except ValueError:
        return None
    return f"/{info.plural}/{record_id}"


def sentence(event: str, who: str, label: str, title: str | None) -> str:
    """What happened, in words: the invitation events read as sentences of their own."""
    what = f"the {label} “{title}”" if title is not None else "Coterie"
    if event == "invitation":
        return f"{who} invited your company to join {what}"
    if event == "nomination":
        return f"{who} nominated a lead to your company: “{title}”"
    if event in ("invitation_accepted", "invitation_declined"):
        return f"{who} {phrase(event)} {what}"
    if event in PARTNERSHIP_EVENTS or event in FUND_EVENTS:
        return f"{who} {phrase(event)}"
    plain = f"{label} “{title}”" if title is not None else "Coterie"
    return f"{who} {phrase(event)} {plain}".replace("  ", " ")


def url_of(
    event: str,
    kind: str | None,
    record_id: uuid.UUID | None,
    subject_id: uuid.UUID | None = None,
) -> str | None:
    """Where the recipient acts on it: the record (or its invitation view), the nominations
    page, the network page for partnerships."""
    if event in PARTNERSHIP_EVENTS:
        return "/network"
    if event == "nomination":
        return "/leads/nominations"
    if event in FUND_EVENTS and subject_id is not None:
        return f"/funds/requests/{subject_id}"
    return record_url(kind, record_id)
