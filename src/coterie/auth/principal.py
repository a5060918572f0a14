"""Who is calling: the acting user and company, resolved from a bearer token or a session, and
the principal the gate reads and writes as on their behalf.

The authentication dependency (`auth/dependencies.py`, `web/sessions.py`) resolves the `Actor`
once per request; a CLI command, the demo loader or a task resolves it once per entry. Its
`principal` is built the first time a use case asks for it and kept for the rest of the
request, so services never rebuild it. A use case that changes what the caller's principal is
made of (the caller's own role or preferences, the company's visibility rules) and then reads
shared records in the same request calls `refresh_principal()` first.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from functools import cached_property

from sqlalchemy.orm import Session

from coterie.auth.preferences import read as read_preferences
from coterie.authz.principal import Principal, per_user_kinds
from coterie.kit.problems import forbidden
from coterie.models import AuthToken, Company, User
from coterie.models.vocabulary import Role, TokenKind

_RANK = {Role.MEMBER: 0, Role.MANAGER: 1, Role.ADMIN: 2}


@dataclass(frozen=True)
class Actor:
    user: User
    token: AuthToken
    session: Session = field(repr=False, compare=False)
    """The unit of work the actor was resolved in (the request's, the command's)."""

    @cached_property
    def principal(self) -> Principal:
        """The caller as the gate sees them, built once (the company's visibility rules are
        read at most once, in the transaction that first needs them)."""
        return principal_of(self.session, self.user)

    def refresh_principal(self) -> Principal:
        """Forget the principal built earlier in this request: the next use reads it anew."""
        self.__dict__.pop("principal", None)
        return self.principal

    @property
    def company(self) -> Company:
        return self.user.company

    @property
    def company_id(self) -> uuid.UUID:
        return self.user.company_id

    @property
    def user_id(self) -> uuid.UUID:
        return self.user.id

    @property
    def role(self) -> Role:
        return Role(self.user.role)

    def has_role(self, at_least: Role) -> bool:
        return _RANK[self.role] >= _RANK[at_least]

    def require_role(self, at_least: Role, to: str) -> None:
        if not self.has_role(at_least):
            raise forbidden(f"Only a company {at_least.value} or above can {to}.")


def principal_of(session: Session, user: User) -> Principal:
    """The principal of `user`: the caller's (through `Actor.principal`), or a recipient's that
    activity checks a notification or digest against."""
    return Principal(
        company_id=user.company_id,
        user_id=user.id,
        hide_private=read_preferences(user.preferences).hide_private_fields,
        is_admin=user.role == Role.ADMIN.value,
        per_user=per_user_kinds(session, user.company_id),
    )


def background_actor(
    session: Session, user: User, purpose: str, *, show_private: bool = False
) -> Actor:
    """`user` as a background task (an export, a sync run, an import) acts for them.

    A task is no signed-in request: its token is a transient placeholder named `purpose`, never
    added to the session (no credential is created). `show_private` turns "hide private
    fields" off for a task that must read the company's own private values (they are its own
    data), whatever the user's display preference."""
    placeholder = AuthToken(user_id=user.id, kind=TokenKind.PERSONAL.value, name=purpose)
    actor = Actor(user=user, token=placeholder, session=session)
    if show_private:
        actor.__dict__["principal"] = replace(principal_of(session, user), hide_private=False)
    return actor
