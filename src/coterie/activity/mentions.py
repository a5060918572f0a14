"""@mentions in comments: parsing, who may be mentioned, and the mention picker's list.

Two spellings: `@[Display Name](user-id)` (what the page's picker inserts; the name shown is
always the user's current name, never the typed one) and a plain `@someone@example.com`.
A user may be mentioned when they are active, their company may read the comment (an active
participant for a "participants" comment, the author's company for a "company" note), and
they themselves may see the record: checked through the gate as *their* principal, so a
company's per-user visibility rules apply.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coterie.activity import markdown
from coterie.activity.principals import can_see, principal_of
from coterie.auth.principal import Actor
from coterie.authz import gate
from coterie.authz.principal import Principal
from coterie.fields.kinds import ParticipantStatus
from coterie.kit.problems import invalid
from coterie.models import Company, User

MAX_MENTIONS = 50
PICKER_LIMIT = 20
_PICKED = re.compile(r"@\[(?P<name>[^\]\n]{1,200})\]\((?P<id>[0-9a-fA-F-]{32,36})\)")
_EMAIL = re.compile(
    r"(?<![\w.@])@(?P<email>[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"
)
_RESERVED = "COTERIEMENTION"


@dataclass(frozen=True)
class Mention:
    text: str  # as typed
    start: int
    end: int
    user_id: uuid.UUID | None
    email: str | None


@dataclass(frozen=True)
class Prepared:
    """A comment's source with mentions resolved: the users and the rendered forms."""

    user_ids: list[uuid.UUID]
    html: str


def parse(source: str) -> list[Mention]:
    found: list[Mention] = []
    for match in _PICKED.finditer(source):
        try:
            user_id: uuid.UUID | None = uuid.UUID(match.group("id"))
        except ValueError:
            user_id = None
        found.append(Mention(match.group(0), match.start(), match.end(), user_id, None))
    taken = [(m.start, m.end) for m in found]
    for match in _EMAIL.finditer(source):
        if any(start <= match.start() < end for start, end in taken):
            continue
        email = match.group("email").lower().rstrip(".")
        found.append(Mention(match.group(0), match.start(), match.end(), None, email))
    return sorted(found, key=lambda m: m.start)


def _resolve(session: Session, mention: Mention) -> User | None:
    if mention.user_id is not None:
        return session.get(User, mention.user_id)
    if mention.email is not None:
        return session.scalar(select(User).where(User.email == mention.email))
    return None


def may_read_comment(
    session: Session,
    user: User,
    kind: str,
    record_id: uuid.UUID,
    *,
    audience: str,
    author_company_id: uuid.UUID,
) -> bool:
    """Whether `user` may read a comment of that audience on that record, now."""
    if not user.is_active:
        return False
    if audience == "company" and user.company_id != author_company_id:
        return False
    return can_see(session, principal_of(session, user), kind, record_id)


def prepare(
    session: Session,
    kind: str,
    record_id: uuid.UUID,
    source: str,
    *,
    audience: str,
    author_company_id: uuid.UUID,
    path: str = "body.body",
) -> Prepared:
    """Check every mention of `source` (422 naming the first that may not be mentioned) and
    render the comment."""
    source = source.replace(_RESERVED, "COTERIE\u2060MENTION")
    mentions = parse(source)
    if len(mentions) > MAX_MENTIONS:
        raise invalid(path, f"mentions more than {MAX_MENTIONS} people")
    users: list[uuid.UUID] = []
    names: dict[str, str] = {}
    pieces: list[str] = []
    position = 0
    for index, mention in enumerate(mentions):
        user = _resolve(session, mention)
        if user is None or not may_read_comment(
            session,
            user,
            kind,
            record_id,
            audience=audience,
            author_company_id=author_company_id,
        ):
            raise invalid(
                path,
                f"{mention.text} is not someone who can read this comment on this record",
                "mention-not-allowed",
            )
        token = markdown.placeholder(index)
        names[token] = user.name
        pieces.extend([source[position : mention.start], token])
        position = mention.end
        if user.id not in users:
            users.append(user.id)
    pieces.append(source[position:])
    return Prepared(user_ids=users, html=markdown.render("".join(pieces), names))


def as_plain_text(session: Session, source: str) -> str:
    """The comment source for an e-mail: picked mentions as @current name."""

    def name(match: re.Match[str]) -> str:
        try:
            user = session.get(User, uuid.UUID(match.group("id")))
        except ValueError:
            user = None
        return f"@{user.name}" if user is not None else "@someone"

    return _PICKED.sub(name, source)


@dataclass(frozen=True)
class Candidate:
    user_id: uuid.UUID
    name: str
    company_id: uuid.UUID
    company_name: str


def mentionable(
    session: Session,
    principal: Principal,
    actor: Actor,
    kind: str,
    record_id: uuid.UUID,
    *,
    query: str,
    audience: str,
) -> list[Candidate]:
    """Users the caller may mention on a record it can see (404 otherwise): active users of
    the active participant companies (of my own company only for a "company" note) whose
    name matches `query`, who may themselves see the record."""
    gate.check(session, principal, kind, record_id)
    companies = {
        p.company_id
        for p in gate.participants(session, principal, kind, [record_id])
        if p.status == ParticipantStatus.ACTIVE.value
    }
    if audience == "company":
        companies &= {actor.company_id}
    if not companies:
        return []
    statement = (
        select(User, Company.name)
        .join(Company, Company.id == User.company_id)
        .where(User.company_id.in_(companies), User.is_active.is_(True))
        .order_by(func.lower(User.name), User.id)
    )
    text = query.strip()
    if text:
        pattern = "%" + text.lower().replace("\\", "").replace("%", "").replace("_", "") + "%"
        statement = statement.where(func.lower(User.name).like(pattern))
    found: list[Candidate] = []
    for user, company_name in session.execute(statement.limit(PICKER_LIMIT * 3)):
        if user.id == actor.user_id:
            continue
        if not can_see(session, principal_of(session, user), kind, record_id):
            continue
        found.append(Candidate(user.id, user.name, user.company_id, company_name))
        if len(found) == PICKER_LIMIT:
            break
    return found
