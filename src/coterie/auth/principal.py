"""Who is calling: the acting user and company, resolved from a bearer token or a session."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from coterie.auth.preferences import read as read_preferences
from coterie.kit.problems import forbidden
from coterie.models import AuthToken, Company, User
from coterie.models.vocabulary import Role

_RANK = {Role.MEMBER: 0, Role.MANAGER: 1, Role.ADMIN: 2}


@dataclass(frozen=True)
class Actor:
    user: User
    token: AuthToken

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

    @property
    def hides_private_fields(self) -> bool:
        """The user's preference: their own company's private fields hidden from them too."""
        return read_preferences(self.user.preferences).hide_private_fields

    def has_role(self, at_least: Role) -> bool:
        return _RANK[self.role] >= _RANK[at_least]

    def require_role(self, at_least: Role, to: str) -> None:
        if not self.has_role(at_least):
            raise forbidden(f"Only a company {at_least.value} or above can {to}.")
