"""Teams and access rules: validated on save, compiled into grants and participants at once.

A rule is checked against the author's own template (conditions may only name the shared core
and the company's own fields), its grantees against the company (users, teams) or its active
partnerships (companies), and its reach against `COTERIE_RULE_GRANT_CAP`. Saving, editing,
disabling or deleting a rule re-applies the company's rules of that kind in the same transaction,
so narrowing a rule revokes at once.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth.principal import Actor
from coterie.authz import conditions, grants, rls, rules
from coterie.authz.catalog import catalog
from coterie.authz.principal import AUTO_SHARE, VISIBILITY, per_user_kinds
from coterie.config import Settings
from coterie.db import utcnow
from coterie.kit import conditional
from coterie.kit.problems import Problem, conflict, invalid, not_found
from coterie.models import AccessRule, Partnership, Team, TeamMember, User
from coterie.models.vocabulary import PartnershipStatus, Role
from coterie.network.partnerships import partner_ids
from coterie.policies.schemas import Grantees, RuleIn, RuleOut, TeamOut
from coterie.records import templates
from coterie.records.kinds import Kind


def _condition(data: dict[str, Any]) -> dict[str, Any]:
    return data or {"all": []}


def rule_out(rule: AccessRule) -> RuleOut:
    return RuleOut(
        id=rule.id,
        name=rule.name,
        kind=rule.kind,
        type=rule.type,
        condition=rule.condition,
        grantees=Grantees.model_validate(rule.grantees),
        permission=rule.permission,
        partnership_id=rule.partnership_id,
        enabled=rule.enabled,
        version=rule.version,
        created_at=rule.created_at,
        updated_at=rule.updated_at,
    )


def _check_users(session: Session, company_id: uuid.UUID, ids: list[uuid.UUID], path: str) -> None:
    for i, user_id in enumerate(ids):
        user = session.get(User, user_id)
        if user is None or user.company_id != company_id:
            raise invalid(f"{path}.{i}", "is not a user of your company")


def _check_teams(session: Session, company_id: uuid.UUID, ids: list[uuid.UUID], path: str) -> None:
    for i, team_id in enumerate(ids):
        team = session.get(Team, team_id)
        if team is None or team.company_id != company_id:
            raise invalid(f"{path}.{i}", "is not a team of your company")


def _validate(
    session: Session, settings: Settings, actor: Actor, data: RuleIn
) -> conditions.Condition:
    template = templates.load(session, actor.company_id, data.kind.value)
    parsed = conditions.parse(_condition(data.condition), catalog(template), path="body.condition")
    grantees = data.grantees
    if data.type == VISIBILITY:
        if grantees.companies:
            raise invalid("body.grantees.companies", "a visibility rule grants to users and teams")
        if not grantees.users and not grantees.teams:
            raise invalid("body.grantees", "name at least one user or team")
        if data.partnership_id is not None:
            raise invalid(
                "body.partnership_id", "only auto-share rules are scoped to a partnership"
            )
        _check_users(session, actor.company_id, grantees.users, "body.grantees.users")
        _check_teams(session, actor.company_id, grantees.teams, "body.grantees.teams")
    else:
        if grantees.users or grantees.teams:
            raise invalid("body.grantees", "an auto-share rule shares with partner companies")
        if not grantees.companies:
            raise invalid("body.grantees.companies", "name at least one partner company")
        allowed = partner_ids(session, actor.company_id)
        if data.partnership_id is not None:
            partnership = session.get(Partnership, data.partnership_id)
            sides = (
                {partnership.requester_company_id, partnership.recipient_company_id}
                if partnership is not None
                else set()
            )
            if (
                partnership is None
                or actor.company_id not in sides
                or partnership.status != PartnershipStatus.ACTIVE.value
            ):
                raise invalid("body.partnership_id", "is not an active partnership of your company")
            allowed = sides - {actor.company_id}
        for i, company_id in enumerate(grantees.companies):
            if company_id not in allowed:
                raise invalid(
                    f"body.grantees.companies.{i}",
                    "is not an active partner"
                    + (" in this partnership" if data.partnership_id else " of your company"),
                )
    reach = len(rules.matching(session, actor.company_id, data.kind.value, parsed))
    if data.enabled and reach > settings.rule_grant_cap:
        raise Problem(
            422,
            "rule-too-broad",
            "Rule too broad",
            f"This rule matches {reach} records at once, above the limit of "
            f"{settings.rule_grant_cap} (COTERIE_RULE_GRANT_CAP). Narrow its condition, or split "
            "it into several rules.",
            errors=[
                {
                    "path": "body.condition",
                    "message": "matches too many records",
                    "type": "rule-too-broad",
                }
            ],
            matching_records=reach,
        )
    return parsed


def preview(session: Session, actor: Actor, data: RuleIn) -> int:
    template = templates.load(session, actor.company_id, data.kind.value)
    parsed = conditions.parse(_condition(data.condition), catalog(template), path="body.condition")
    return len(rules.matching(session, actor.company_id, data.kind.value, parsed))


@rls.unsafe_system_maintenance
def reapply(
    session: Session,
    company_id: uuid.UUID,
    kind: str,
    acting_user_id: uuid.UUID | None,
    *,
    auto_share: bool = True,
    visibility: bool = True,
) -> None:
    """Re-apply every rule of one company and kind to all its records.

    Auto-share rules invite (no grant yet) or withdraw companies: grants change only where an
    active company was withdrawn, and it loses all its rows there. `visibility=False` when no
    visibility rule changed: the company's own per-user rows stay as they are (auto-share
    rules never change whom the company itself works with); `auto_share=False` likewise."""
    if auto_share:
        changes = rules.apply_auto_share(session, company_id, kind, acting_user_id=acting_user_id)
        if changes.revoked:
            grants.refresh_records(session, sorted(changes.revoked), kind)
    if visibility:
        rules.refresh_visibility(session, company_id, kind)


def reapply_all_kinds(
    session: Session, company_id: uuid.UUID, acting_user_id: uuid.UUID | None
) -> None:
    for kind in Kind:
        reapply(session, company_id, kind.value, acting_user_id)


def list_rules(session: Session, actor: Actor, kind: str | None) -> list[AccessRule]:
    actor.require_role(Role.MANAGER, "read access rules")
    statement = select(AccessRule).where(AccessRule.company_id == actor.company_id)
    if kind:
        statement = statement.where(AccessRule.kind == kind)
    return list(session.scalars(statement.order_by(AccessRule.created_at)))


def get_rule(session: Session, actor: Actor, rule_id: uuid.UUID) -> AccessRule:
    actor.require_role(Role.MANAGER, "read access rules")
    rule = session.get(AccessRule, rule_id)
    if rule is None or rule.company_id != actor.company_id:
        raise not_found("rule")
    return rule


def create_rule(session: Session, settings: Settings, actor: Actor, data: RuleIn) -> AccessRule:
    actor.require_role(Role.ADMIN, "create access rules")
    _validate(session, settings, actor, data)
    rule = AccessRule(
        company_id=actor.company_id,
        kind=data.kind.value,
        type=data.type,
        name=data.name,
        condition=_condition(data.condition),
        grantees=data.grantees.model_dump(mode="json"),
        permission=data.permission,
        partnership_id=data.partnership_id,
        enabled=data.enabled,
        created_by_user_id=actor.user_id,
    )
    session.add(rule)
    session.flush()
    _reapply_for(session, actor, rule.kind, {rule.type})
    audit.record(session, actor, "rule.created", "rule", rule.id, kind=rule.kind, type=rule.type)
    return rule


def update_rule(
    session: Session,
    settings: Settings,
    actor: Actor,
    rule_id: uuid.UUID,
    data: RuleIn,
    expected: int,
) -> AccessRule:
    actor.require_role(Role.ADMIN, "change access rules")
    rule = get_rule(session, actor, rule_id)
    conditional.claim_version(session, rule, expected, "rule")
    if data.kind.value != rule.kind:
        raise invalid("body.kind", "cannot change; create a new rule for another kind")
    _validate(session, settings, actor, data)
    types = {rule.type, data.type}
    rule.type = data.type
    rule.name = data.name
    rule.condition = _condition(data.condition)
    rule.grantees = data.grantees.model_dump(mode="json")
    rule.permission = data.permission
    rule.partnership_id = data.partnership_id
    rule.enabled = data.enabled
    rule.updated_at = utcnow()
    _reapply_for(session, actor, rule.kind, types)
    audit.record(session, actor, "rule.updated", "rule", rule.id, kind=rule.kind, type=rule.type)
    return rule


def delete_rule(session: Session, actor: Actor, rule_id: uuid.UUID, expected: int) -> None:
    actor.require_role(Role.ADMIN, "delete access rules")
    rule = get_rule(session, actor, rule_id)
    conditional.claim_version(session, rule, expected, "rule")
    kind, type_ = rule.kind, rule.type
    audit.record(session, actor, "rule.deleted", "rule", rule.id, kind=rule.kind, type=rule.type)
    session.delete(rule)
    session.flush()
    _reapply_for(session, actor, kind, {type_})


def _reapply_for(session: Session, actor: Actor, kind: str, types: set[str]) -> None:
    """Re-apply after a change to rules of these types (the rule's type before and after)."""
    reapply(
        session,
        actor.company_id,
        kind,
        actor.user_id,
        auto_share=AUTO_SHARE in types,
        visibility=VISIBILITY in types,
    )


def team_out(session: Session, team: Team) -> TeamOut:
    members = list(session.scalars(select(TeamMember.user_id).where(TeamMember.team_id == team.id)))
    return TeamOut(id=team.id, name=team.name, members=sorted(members))


def list_teams(session: Session, actor: Actor) -> list[Team]:
    return list(
        session.scalars(select(Team).where(Team.company_id == actor.company_id).order_by(Team.name))
    )


def get_team(session: Session, actor: Actor, team_id: uuid.UUID) -> Team:
    team = session.get(Team, team_id)
    if team is None or team.company_id != actor.company_id:
        raise not_found("team")
    return team


def _name_free(
    session: Session, company_id: uuid.UUID, name: str, except_id: uuid.UUID | None
) -> None:
    clash = session.scalar(select(Team).where(Team.company_id == company_id, Team.name == name))
    if clash is not None and clash.id != except_id:
        raise conflict("team-name-taken", f"There is already a team called {name}.")


def _set_members(session: Session, actor: Actor, team: Team, members: list[uuid.UUID]) -> None:
    _check_users(session, actor.company_id, members, "body.members")
    session.execute(delete(TeamMember).where(TeamMember.team_id == team.id))
    for user_id in dict.fromkeys(members):
        session.add(TeamMember(team_id=team.id, user_id=user_id))
    session.flush()


def create_team(session: Session, actor: Actor, name: str, members: list[uuid.UUID]) -> Team:
    actor.require_role(Role.ADMIN, "manage teams")
    _name_free(session, actor.company_id, name, None)
    team = Team(company_id=actor.company_id, name=name)
    session.add(team)
    session.flush()
    _set_members(session, actor, team, members)
    reapply_visibility(session, actor.company_id)
    audit.record(session, actor, "team.created", "team", team.id, name=team.name)
    return team


def update_team(
    session: Session,
    actor: Actor,
    team_id: uuid.UUID,
    name: str | None,
    members: list[uuid.UUID] | None,
) -> Team:
    actor.require_role(Role.ADMIN, "manage teams")
    team = get_team(session, actor, team_id)
    if name is not None:
        _name_free(session, actor.company_id, name, team.id)
        team.name = name
    if members is not None:
        _set_members(session, actor, team, members)
        reapply_visibility(session, actor.company_id)
    audit.record(session, actor, "team.updated", "team", team.id, name=team.name)
    return team


def delete_team(session: Session, actor: Actor, team_id: uuid.UUID) -> None:
    actor.require_role(Role.ADMIN, "manage teams")
    team = get_team(session, actor, team_id)
    audit.record(session, actor, "team.deleted", "team", team.id, name=team.name)
    session.execute(delete(TeamMember).where(TeamMember.team_id == team.id))
    session.delete(team)
    session.flush()
    reapply_visibility(session, actor.company_id)


@rls.unsafe_system_maintenance
def reapply_visibility(session: Session, company_id: uuid.UUID) -> None:
    """After membership changes (teams, roles, deactivation): per-user grants of every kind."""
    for kind in per_user_kinds(session, company_id):
        rules.refresh_visibility(session, company_id, kind)
