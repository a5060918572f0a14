"""Notifications: in-app, and by e-mail at once or in a daily digest (the user's preference).

`notify()` is the one entry point for every domain (comments, approvals, nominations,
registrations...). It never works as "system": each recipient must be an active user who may
see the record *as their own principal*, or gets nothing. Whatever a notification shows, when
listed in the app or e-mailed, is read again through the gate as the recipient at that moment:
the record's title while they may still see the record, the comment's text while they may still
read the comment, never a space field's value. A notification whose record they can no longer
see drops out of their list and their e-mails.

Invitations are told to companies that cannot see the record yet: an `invitation` (to a record,
a joint plan, a program...) or a `nomination` (a lead) reaches the invited company's users while
their company is invited, and shows only the invitation view (who invites, the kind of record,
its title: what the inviting company shows every invitee), never a field of a space. Partnership
events carry no record: they name the partnership (`subject_id`) and link to the network page.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.orm import Session, lazyload
from sqlalchemy.sql.elements import ColumnElement

from coterie.activity import cursors, mentions
from coterie.activity import notification_text as wording
from coterie.activity.comment_access import visible_comment
from coterie.activity.principals import principal_of, principals_of, visible_record
from coterie.activity.schemas import NotificationOut, PersonRef
from coterie.auth.preferences import read as read_preferences
from coterie.auth.principal import Actor
from coterie.authz import gate, rls
from coterie.authz.partners import involving
from coterie.authz.principal import Principal
from coterie.config import Settings, get_settings
from coterie.db import new_id, utcnow
from coterie.fields.kinds import KINDS, Kind
from coterie.kit import txcache
from coterie.kit.pagination import check_limit
from coterie.kit.problems import not_found
from coterie.mail import delivery
from coterie.mail.delivery import OutgoingMail
from coterie.models import Company, Partnership, User
from coterie.models.activity import Notification

EXCERPT_LENGTH = 600
IMMEDIATE_TOPIC = "notification"
DIGEST_TOPIC = "digest"
_MAX_RECIPIENTS = 500

# What notifications of an event about a subject (not a comment) quote, read again as the
# recipient: subject id -> text, for all the subjects of one list or e-mail at once (a subject
# left out: nothing, e.g. the recipient may no longer see it). A domain above `activity`
# registers its source at start-up (`coterie.wiring`).
ExcerptSource = Callable[[Session, Principal, Collection[uuid.UUID]], Mapping[uuid.UUID, str]]
_excerpt_sources: dict[str, ExcerptSource] = {}


def provide_excerpt(event: str, source: ExcerptSource) -> None:
    """Register what notifications of `event` quote (again: the last registration wins)."""
    _excerpt_sources[event] = source


def _actor_user_id(actor: Actor | User | None) -> uuid.UUID | None:
    if actor is None:
        return None
    return actor.user_id if isinstance(actor, Actor) else actor.id


def notify(
    session: Session,
    *,
    user_ids: Iterable[uuid.UUID],
    event: str,
    record_id: uuid.UUID | None,
    kind: str | None,
    actor: Actor | User | None,
    subject_id: uuid.UUID | None = None,
    settings: Settings | None = None,
) -> list[Notification]:
    """Notify each of `user_ids` (never the actor) who is active and may see the record now.

    Those who want e-mail at once get it queued in the outbox (delivered after the transaction
    commits, `emailed_at` set once it was); links use
    `settings.resolved_base_url` (default: the process settings)."""
    actor_id = _actor_user_id(actor)
    wanted = [
        user_id
        for user_id in list(dict.fromkeys(user_ids))[:_MAX_RECIPIENTS]
        if user_id != actor_id
    ]
    if not wanted:
        return []
    found = {
        u.id: u
        for u in session.scalars(
            select(User).where(User.id.in_(wanted)).options(lazyload(User.company))
        )
    }
    users = [found[u] for u in wanted if u in found and found[u].is_active]
    principals = principals_of(session, users)
    # the gate's answer depends on the company and the grant rows it reads (`visible`): each
    # recipient is checked as their own principal, those alike share one check
    titles: dict[tuple[uuid.UUID, uuid.UUID], str | None] = {}
    created: list[Notification] = []
    now = utcnow()
    for user in users:
        principal = principals[user.id]
        known: dict[uuid.UUID, str] = {}
        if record_id is not None:
            if kind is None:
                continue
            access = (principal.company_id, principal.access_key(kind))
            if access not in titles:
                titles[access] = _title_for(session, principal, event, kind, record_id)
            title = titles[access]
            if title is None:
                continue
            known[record_id] = title
        notification = Notification(
            id=new_id(),
            user_id=user.id,
            company_id=user.company_id,
            event=event,
            record_id=record_id,
            kind=kind,
            actor_user_id=actor_id,
            subject_id=subject_id,
            created_at=now,
        )
        created.append(notification)
        if read_preferences(user.preferences).email_notifications == "immediate":
            # composed as the recipient now, before the row is written (its `emailed_at` too)
            mail = compose(
                session,
                user,
                [notification],
                settings or get_settings(),
                digest=False,
                principal=principal,
                titles=known,
            )
            if mail is not None:  # `emailed_at` is set once the e-mail is delivered
                notification.mail_id = delivery.queue(
                    session,
                    mail,
                    topic=IMMEDIATE_TOPIC,
                    company_id=user.company_id,
                    key=f"{IMMEDIATE_TOPIC}:{notification.id}",
                )
    if created:
        session.add_all(created)
        session.flush()
    return created


def _title_for(
    session: Session, principal: Principal, event: str, kind: str, record_id: uuid.UUID
) -> str | None:
    """The record's title if the principal may see the record, or (for an invitation) the
    invitation view while its company is invited; None: nothing to tell."""
    record = visible_record(session, principal, kind, record_id)
    if record is None and event in wording.INVITATION_EVENTS:
        invited = gate.invitation(session, principal, kind, record_id)
        record = invited[0] if invited is not None else None
    return record.title if record is not None else None


# -- what a notification shows, as its recipient may see it now ----------------------------------


@dataclass(frozen=True)
class View:
    notification: Notification
    text: str
    record_title: str | None
    url: str | None
    actor: PersonRef | None
    excerpt: str | None

    def out(self) -> NotificationOut:
        n = self.notification
        return NotificationOut(
            id=n.id,
            event=n.event,
            text=self.text,
            record_id=n.record_id,
            kind=n.kind,
            record_title=self.record_title,
            url=self.url,
            actor=self.actor,
            excerpt=self.excerpt,
            subject_id=n.subject_id,
            created_at=n.created_at,
            read_at=n.read_at,
        )


def _titles(
    session: Session,
    principal: Principal,
    notifications: Sequence[Notification],
    known: dict[uuid.UUID, str] | None = None,
) -> dict[uuid.UUID, str]:
    """Titles of the records the principal may read, through the gate, kind by kind (`known`:
    titles the gate just gave this principal in this transaction)."""
    titles: dict[uuid.UUID, str] = dict(known or {})
    wanted = {
        (n.kind, n.record_id)
        for n in notifications
        if n.record_id is not None and n.kind is not None and n.record_id not in titles
    }
    titles.update(gate.visible_titles(session, principal, wanted))
    return titles


def _invitation_titles(
    session: Session,
    principal: Principal,
    notifications: Sequence[Notification],
    titles: dict[uuid.UUID, str],
) -> dict[uuid.UUID, str]:
    """Titles, from the invitation view, of the records the invitation notifications name that
    the principal's company is invited to (and does not see otherwise)."""
    wanted = {
        n.record_id
        for n in notifications
        if n.event in wording.INVITATION_EVENTS
        and n.record_id is not None
        and n.record_id not in titles
    }
    if not wanted:
        return {}
    return {
        record.id: record.title
        for record, _participant in gate.invitations(session, principal)
        if record.id in wanted
    }


PARTNERSHIP_ANSWERS = {"active": "accepted", "declined": "declined", "revoked": "ended"}


def _partnerships(
    session: Session, principal: Principal, notifications: Sequence[Notification]
) -> dict[uuid.UUID, tuple[str, str]]:
    """Message and status of the partnerships these invitation notifications name (one side of
    each is the principal's company)."""
    ids = {
        n.subject_id
        for n in notifications
        if n.event == "partnership_invitation" and n.subject_id is not None
    }
    if not ids:
        return {}
    rows = session.execute(
        select(Partnership.id, Partnership.message, Partnership.status).where(
            Partnership.id.in_(ids), involving(principal.company_id)
        )
    )
    return {row[0]: (row[1] or "", row[2]) for row in rows}


def _answered(partnership: tuple[str, str] | None) -> str:
    """ " (accepted)" and the like, once a partnership invitation is no longer pending."""
    if partnership is None or partnership[1] not in PARTNERSHIP_ANSWERS:
        return ""
    return f" ({PARTNERSHIP_ANSWERS[partnership[1]]})"


def _quoted(
    session: Session, principal: Principal, notifications: Sequence[Notification]
) -> dict[uuid.UUID, str]:
    """What the notifications about a registered source's subjects quote: one call per source
    for all of its subjects."""
    wanted: dict[ExcerptSource, set[uuid.UUID]] = {}
    for n in notifications:
        source = _excerpt_sources.get(n.event)
        if source is not None and n.subject_id is not None:
            wanted.setdefault(source, set()).add(n.subject_id)
    quoted: dict[uuid.UUID, str] = {}
    for source, ids in wanted.items():
        quoted.update(source(session, principal, ids))
    return quoted


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT_LENGTH else text[:EXCERPT_LENGTH] + "…"


txcache.register("people", User, Company)


def _people(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, PersonRef]:
    """Names of users and their companies (read once per transaction)."""
    if not ids:
        return {}
    cached = txcache.cache(session, "people")
    missing = ids - cached.keys()
    if missing:
        rows = session.execute(
            select(User.id, User.name, Company.id, Company.name)
            .join(Company, Company.id == User.company_id)
            .where(User.id.in_(missing))
        )
        for r in rows:
            cached[r[0]] = PersonRef(user_id=r[0], name=r[1], company_id=r[2], company_name=r[3])
    return {i: cached[i] for i in ids if i in cached}


def describe(
    session: Session,
    principal: Principal,
    notifications: Sequence[Notification],
    *,
    titles: dict[uuid.UUID, str] | None = None,
) -> list[View]:
    """The notifications as the principal may see them now; those about a record it can no
    longer see are left out (`titles`: what the gate just gave this principal, if anything)."""
    titles = _titles(session, principal, notifications, titles)
    invited = _invitation_titles(session, principal, notifications, titles)
    asked = _partnerships(session, principal, notifications)
    people = _people(session, {n.actor_user_id for n in notifications if n.actor_user_id})
    quoted = _quoted(session, principal, notifications)
    views: list[View] = []
    for n in notifications:
        title: str | None = None
        if n.record_id is not None:
            title = titles.get(n.record_id)
            if title is None and n.event in wording.INVITATION_EVENTS:
                title = invited.get(n.record_id)  # the invitation view, while invited
            if title is None:
                continue
        actor = people.get(n.actor_user_id) if n.actor_user_id else None
        excerpt = None
        if n.event in ("mention", "comment") and n.subject_id is not None:
            comment = visible_comment(session, principal, n.subject_id)
            if comment is not None:
                excerpt = _excerpt(mentions.as_plain_text(session, comment.body))
        elif n.event in _excerpt_sources and n.subject_id is not None:
            text = quoted.get(n.subject_id)
            excerpt = _excerpt(text) if text else None
        elif n.subject_id is not None and asked.get(n.subject_id, ("", ""))[0]:
            excerpt = _excerpt(asked[n.subject_id][0])
        who = f"{actor.name} ({actor.company_name})" if actor is not None else "Someone"
        label = KINDS[Kind(n.kind)].label.lower() if n.kind in {k.value for k in Kind} else ""
        views.append(
            View(
                notification=n,
                text=wording.sentence(n.event, who, label, title)
                + _answered(asked.get(n.subject_id) if n.subject_id else None),
                record_title=title,
                url=wording.url_of(n.event, n.kind, n.record_id, n.subject_id),
                actor=actor,
                excerpt=excerpt,
            )
        )
    return views


# -- the in-app list ------------------------------------------------------------------------------


def visible_to(principal: Principal) -> ColumnElement[bool]:
    """A notification the principal may still be shown: no record, or one it may read."""
    return or_(
        Notification.record_id.is_(None),
        and_(
            Notification.event.in_(wording.INVITATION_EVENTS),
            Notification.record_id.in_(gate.invited_ids(principal)),
        ),
        *(
            and_(
                Notification.kind == kind.value,
                Notification.record_id.in_(gate.visible_ids(principal, kind)),
            )
            for kind in KINDS
        ),
    )


def _mine(principal: Principal) -> Select[Notification]:
    return (
        select(Notification)
        .where(Notification.user_id == principal.user_id, visible_to(principal))
        .execution_options(**rls.as_company(principal.company_id))
    )


def list_mine(
    session: Session, actor: Actor, *, unread: bool, limit: int, cursor: str | None
) -> tuple[list[NotificationOut], str | None]:
    check_limit(limit)
    principal = actor.principal
    statement = _mine(principal)
    if unread:
        statement = statement.where(Notification.read_at.is_(None))
    condition = cursors.beyond(Notification.created_at, Notification.id, cursors.decode(cursor))
    if condition is not None:
        statement = statement.where(condition)
    statement = statement.order_by(Notification.created_at.desc(), Notification.id.desc())
    rows = list(session.scalars(statement.limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = cursors.encode((rows[-1].created_at, rows[-1].id))
    return [v.out() for v in describe(session, principal, rows)], next_cursor


def unread_count(session: Session, actor: Actor) -> int:
    principal = actor.principal
    statement = (
        select(func.count())
        .select_from(Notification)
        .where(
            Notification.user_id == principal.user_id,
            Notification.read_at.is_(None),
            visible_to(principal),
        )
        .execution_options(**rls.as_company(principal.company_id))
    )
    return int(session.scalar(statement) or 0)


def mark_read(session: Session, actor: Actor, notification_id: uuid.UUID) -> NotificationOut:
    principal = actor.principal
    notification = session.scalars(
        _mine(principal).where(Notification.id == notification_id)
    ).first()
    if notification is None:
        raise not_found("notification")
    if notification.read_at is None:
        notification.read_at = utcnow()
    views = describe(session, principal, [notification])
    if not views:
        raise not_found("notification")
    return views[0].out()


def mark_all_read(session: Session, actor: Actor) -> int:
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


# -- e-mail ---------------------------------------------------------------------------------------


def compose(
    session: Session,
    user: User,
    notifications: Sequence[Notification],
    settings: Settings,
    *,
    digest: bool,
    now: datetime | None = None,
    principal: Principal | None = None,
    titles: dict[uuid.UUID, str] | None = None,
) -> OutgoingMail | None:
    """The e-mail for `user` about `notifications`, rendered as that user may see them now;
    None when nothing is left to tell. `principal` is the user's; `titles` what the gate just
    gave it in this transaction (`describe`)."""
    views = describe(
        session,
        principal if principal is not None else principal_of(session, user),
        notifications,
        titles=titles,
    )
    if not views:
        return None
    base = settings.resolved_base_url.rstrip("/")
    text_parts: list[str] = []
    html_parts: list[str] = []
    for view in views:
        link = f"{base}{view.url}" if view.url else f"{base}/notifications"
        lines = [view.text]
        if view.excerpt:
            lines.append("\n".join(f"> {line}" for line in view.excerpt.splitlines()))
        lines.append(link)
        text_parts.append("\n\n".join(lines))
        excerpt_html = (
            f'<blockquote style="color:#444;border-left:3px solid #ccc;margin:0;padding-left:8px">'
            f"{escape(view.excerpt).replace(chr(10), '<br>')}</blockquote>"
            if view.excerpt
            else ""
        )
        html_parts.append(
            f"<p>{escape(view.text)}</p>{excerpt_html}"
            f'<p><a href="{escape(link)}">Open in Coterie</a></p>'
        )
    settings_link = f"{base}/settings/preferences"
    footer = f"Choose how Coterie e-mails you: {settings_link}"
    if digest:
        count = len(views)
        subject = f"Coterie: {count} notification{'s' if count != 1 else ''} since your last digest"
        intro = f"Hello {user.name}, here is what happened on Coterie."
    else:
        subject = views[0].text
        intro = f"Hello {user.name},"
    text = "\n\n".join([intro, *text_parts, footer])
    separator = "<hr>" if digest else ""
    html = (
        '<html><body style="font-family:sans-serif">'
        f"<p>{escape(intro)}</p>{separator.join(html_parts)}"
        f'<p style="color:#666;font-size:small"><a href="{escape(settings_link)}">'
        "Choose how Coterie e-mails you</a></p></body></html>"
    )
    return OutgoingMail(to=user.email, subject=subject, text=text, html=html)


def mark_delivered(session: Session, mail_id: uuid.UUID, topic: str, at: datetime) -> None:
    """The e-mail `mail_id` (of `topic`: an immediate notification or a digest) was delivered
    at `at`: the notifications it carried are e-mailed, or sent in a digest, from now on."""
    column = Notification.digest_sent_at if topic == DIGEST_TOPIC else Notification.emailed_at
    session.execute(
        update(Notification)
        .where(Notification.mail_id == mail_id, column.is_(None))
        .values({column: at})
        .execution_options(synchronize_session=False)
    )
