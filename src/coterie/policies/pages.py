"""Access rules and teams pages: admins edit, managers read.

The rule form is a small condition builder (rows of field / operator / value, combined with
"all" or "any") that compiles to the condition language of `coterie.authz.conditions`. Saving
needs a preview of that exact rule first: the page shows how many records it matches now
(`policies.service.preview`), then offers to save it. Rules and teams change through
`coterie.policies.service`, which re-applies grants in the same transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.authz.catalog import CORE_FIELDS, catalog
from coterie.authz.conditions import FieldSpec
from coterie.config import Settings
from coterie.deps import DB, AppSettings
from coterie.kit.problems import Problem
from coterie.models import AccessRule
from coterie.models.vocabulary import Role
from coterie.policies import service
from coterie.policies.schemas import RuleIn, TeamIn, TeamPatch
from coterie.records import presenters, templates
from coterie.records.kinds import KINDS, Kind, KindInfo
from coterie.web import csrf
from coterie.web.forms import (
    FORM_ERROR,
    FormFields,
    FormInput,
    errors_from_validation,
)
from coterie.web.paths import parse_id
from coterie.web.sessions import PageActor
from coterie.web.submit import flash_back, problem_detail, submit
from coterie.web.templating import redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])

KindParam = Annotated[str, Query(max_length=20)]
RULES_URL = "/settings/rules"
TEAMS_URL = "/settings/teams"
DEFAULT_ROWS = 3
MAX_ROWS = 10
OPERATORS = (
    ("eq", "is"),
    ("ne", "is not"),
    ("in", "is one of"),
    ("not_in", "is none of"),
    ("lt", "is less than"),
    ("lte", "is at most"),
    ("gt", "is more than"),
    ("gte", "is at least"),
    ("between", "is between"),
    ("contains", "contains"),
    ("contains_any", "contains any of"),
    ("starts_with", "starts with"),
    ("is_null", "is empty"),
    ("is_not_null", "is not empty"),
)
OPERATOR_LABELS = dict(OPERATORS)
LIST_OPERATORS = frozenset({"in", "not_in", "contains_any", "between"})
NULL_OPERATORS = frozenset({"is_null", "is_not_null"})
CORE_LABELS = {
    "title": "Title",
    "customer_name": "Customer name",
    "customer_domain": "Customer domain",
    "motion": "Motion",
    "joint_stage": "Joint stage",
    "owner_company": "Owner company",
}
TYPE_NAMES = {"company": "Company", "uuid": "Id"} | presenters.TYPE_LABELS
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


def _info(kind: str) -> KindInfo:
    try:
        return KINDS[Kind(kind)]
    except ValueError:
        return KINDS[Kind.OPPORTUNITY]


@dataclass(frozen=True)
class CatalogField:
    key: str
    label: str
    type: str
    options: tuple[tuple[str, str], ...]


def _catalog(session: Session, actor: Actor, kind: str) -> list[CatalogField]:
    """What a rule of this kind may talk about: the shared core and our own fields."""
    template = templates.load(session, actor.company_id, kind)
    specs: Mapping[str, FieldSpec] = catalog(template)
    found = []
    for key, spec in specs.items():
        definition = template.by_key.get(key)
        label = CORE_LABELS.get(key) or (definition.label if definition else None) or key
        options = tuple(
            (option, presenters.MOTION_LABELS.get(option) or presenters.display(option, definition))
            if definition is not None
            else (option, presenters.MOTION_LABELS.get(option, option))
            for option in spec.options or ()
        )
        found.append(CatalogField(key, label, spec.type, options))
    core = [f for f in found if f.key in CORE_FIELDS]
    own = sorted((f for f in found if f.key not in CORE_FIELDS), key=lambda f: f.label.lower())
    return core + own


@dataclass
class Lookups:
    """Names people type in a condition, as the ids the condition language wants."""

    companies: dict[str, str] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    company_names: dict[str, str] = field(default_factory=dict)
    user_names: dict[str, str] = field(default_factory=dict)
    team_names: dict[str, str] = field(default_factory=dict)


def _lookups(session: Session, actor: Actor) -> Lookups:
    companies = [(str(actor.company_id), actor.company.name)]
    companies += presenters.partner_choices(session, actor)
    users = presenters.colleague_names(session, actor)
    teams = {str(t.id): t.name for t in service.list_teams(session, actor)}
    return Lookups(
        companies={name.lower(): cid for cid, name in companies},
        users={name.lower(): uid for uid, name in users.items()},
        company_names=dict(companies),
        user_names=users,
        team_names=teams,
    )


# -- the condition builder --------------------------------------------------------------------


@dataclass
class Builder:
    values: dict[str, Any]
    rows: int
    condition: dict[str, Any]
    row_of_leaf: list[int]
    errors: dict[str, str]


def _scalar(
    spec: CatalogField, text: str, lookups: Lookups, key: str, errors: dict[str, str]
) -> Any:
    if spec.type in ("number", "money"):
        try:
            return int(text.replace(",", ""))
        except ValueError:
            try:
                return float(text.replace(",", ""))
            except ValueError:
                errors.setdefault(key, "Enter a number.")
                return None
    if spec.type == "bool":
        lowered = text.lower()
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        errors.setdefault(key, "Enter yes or no.")
        return None
    if spec.type in ("enum", "multi_enum"):
        for option, label in spec.options:
            if text.lower() in {option.lower(), label.lower()}:
                return option
        return text
    if spec.type == "company":
        return lookups.companies.get(text.lower(), text)
    if spec.type == "user":
        return lookups.users.get(text.lower(), text)
    return text


def _read_builder(
    form: FormFields, fields: list[CatalogField], lookups: Lookups, *, add_row: bool = False
) -> Builder:
    by_key = {f.key: f for f in fields}
    count = form.text("rows")
    rows = min(max(int(count) if count.isdigit() else DEFAULT_ROWS, 1), MAX_ROWS)
    values: dict[str, Any] = {
        "name": form.text("name"),
        "type": form.text("type"),
        "match": "any" if form.text("match") == "any" else "all",
        "permission": "edit" if form.text("permission") == "edit" else "view",
        "users": form.texts("users"),
        "teams": form.texts("teams"),
        "companies": form.texts("companies"),
    }
    errors: dict[str, str] = {}
    leaves: list[dict[str, Any]] = []
    row_of_leaf: list[int] = []
    for i in range(rows):
        key, op, text = (form.text(f"cond-{i}-{part}") for part in ("field", "op", "value"))
        values |= {f"cond-{i}-field": key, f"cond-{i}-op": op, f"cond-{i}-value": text}
        if not key and not text:
            continue
        spec = by_key.get(key)
        if spec is None:
            errors[f"cond-{i}-field"] = "Choose a field."
            continue
        if op not in OPERATOR_LABELS:
            errors[f"cond-{i}-op"] = "Choose an operator."
            continue
        leaf: dict[str, Any] = {"field": key, "op": op}
        if op not in NULL_OPERATORS:
            target = f"cond-{i}-value"
            if not text:
                errors[target] = "Enter a value."
                continue
            if op in LIST_OPERATORS:
                parts = [p.strip() for p in text.split(",") if p.strip()]
                leaf["value"] = [_scalar(spec, p, lookups, target, errors) for p in parts]
            else:
                leaf["value"] = _scalar(spec, text, lookups, target, errors)
        leaves.append(leaf)
        row_of_leaf.append(i)
    if add_row:
        rows = min(rows + 1, MAX_ROWS)
    condition = {values["match"]: leaves} if leaves else {}
    return Builder(values, rows, condition, row_of_leaf, errors)


def _rule_in(builder: Builder, kind: str) -> RuleIn | None:
    values = builder.values
    auto_share = values["type"] == "auto_share"
    # Said before the preview, not only on save (the service checks grantees in full on save).
    if auto_share and not values["companies"]:
        builder.errors["companies"] = "Choose at least one partner company to share with."
    elif values["type"] == "visibility" and not values["users"] and not values["teams"]:
        builder.errors["users"] = "Choose at least one user or team who sees the records."
    try:
        return RuleIn.model_validate(
            {
                "name": values["name"],
                "kind": kind,
                "type": values["type"],
                "condition": builder.condition,
                "grantees": {
                    "users": [] if auto_share else values["users"],
                    "teams": [] if auto_share else values["teams"],
                    "companies": values["companies"] if auto_share else [],
                },
                "permission": values["permission"],
            }
        )
    except ValidationError as exc:
        for path, message in errors_from_validation(exc).items():
            target = path.removeprefix("grantees.") if path.startswith("grantees.") else path
            builder.errors.setdefault(target, message)
        return None


def _problem_errors(problem: Problem, builder: Builder) -> dict[str, str]:
    """A service problem's paths (`body.condition.all.1.value`) as the builder's inputs."""
    errors: dict[str, str] = {}
    for error in problem.errors or []:
        parts = str(error.get("path", "")).split(".")
        message = str(error.get("message", "")) or problem.detail
        message = message[:1].upper() + message[1:]
        if parts[:2] == ["body", "condition"] and len(parts) >= 5 and parts[3].isdigit():
            leaf = int(parts[3])
            row = builder.row_of_leaf[leaf] if leaf < len(builder.row_of_leaf) else 0
            target = f"cond-{row}-{parts[4] if parts[4] in ('field', 'op') else 'value'}"
        elif parts[:2] == ["body", "condition"]:
            target = "condition"
        elif parts[:2] == ["body", "grantees"] and len(parts) > 2:
            target = parts[2]
        elif parts[:2] == ["body", "grantees"]:
            target = "companies" if builder.values.get("type") == "auto_share" else "users"
        elif parts[:2] == ["body", "name"]:
            target = "name"
        else:
            target = FORM_ERROR
        errors.setdefault(target, message if target != FORM_ERROR else problem.detail)
    if not errors:
        errors[FORM_ERROR] = problem.detail
    return errors


def _fingerprint(data: RuleIn) -> str:
    """Which exact rule the user previewed: saving another one shows its preview first."""
    text = json.dumps(data.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


# -- describing rules -------------------------------------------------------------------------


def _value_text(value: Any, spec: CatalogField | None, lookups: Lookups) -> str:
    if isinstance(value, list):
        return ", ".join(_value_text(v, spec, lookups) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if spec is not None:
        if spec.type == "company":
            return lookups.company_names.get(text, "another company")
        if spec.type == "user":
            return lookups.user_names.get(text, "a former user")
        for option, label in spec.options:
            if option == text:
                return label
    return f"“{text}”" if spec is None or spec.type in ("text", "long_text") else text


def describe(condition: Any, fields: Mapping[str, CatalogField], lookups: Lookups) -> str:
    """A condition as a sentence: `Region is “EMEA” and Amount is at least 1000`."""
    if not isinstance(condition, dict) or not condition:
        return "every record"
    for group, word in (("all", " and "), ("any", " or ")):
        if group in condition:
            parts = [describe(c, fields, lookups) for c in condition[group]]
            if not parts:
                return "every record" if group == "all" else "no record"
            return word.join(f"({p})" if (" and " in p or " or " in p) else p for p in parts)
    if "not" in condition:
        return f"not ({describe(condition['not'], fields, lookups)})"
    key = str(condition.get("field"))
    spec = fields.get(key)
    label = spec.label if spec is not None else key
    op = str(condition.get("op"))
    text = f"{label} {OPERATOR_LABELS.get(op, op)}"
    if "value" in condition:
        value = condition["value"]
        joined = (
            " and ".join(_value_text(v, spec, lookups) for v in value)
            if op == "between" and isinstance(value, list)
            else _value_text(value, spec, lookups)
        )
        text += f" {joined}"
    return text


@dataclass(frozen=True)
class RuleRow:
    rule: AccessRule
    condition: str
    grantees: list[str]


def _rule_row(rule: AccessRule, fields: Mapping[str, CatalogField], lookups: Lookups) -> RuleRow:
    grantees = rule.grantees or {}
    names = [
        *(f"team {lookups.team_names.get(t, '(deleted)')}" for t in grantees.get("teams", [])),
        *(lookups.user_names.get(u, "a former user") for u in grantees.get("users", [])),
        *(lookups.company_names.get(c, "a former partner") for c in grantees.get("companies", [])),
    ]
    return RuleRow(rule, describe(rule.condition, fields, lookups), names)


# -- the rules page ---------------------------------------------------------------------------


def _rules_page(
    request: Request,
    session: Session,
    settings_cap: int,
    actor: Actor,
    info: KindInfo,
    *,
    builder: Builder | None = None,
    preview: int | None = None,
    fingerprint: str = "",
    status_code: int = 200,
) -> Response:
    kind = info.kind.value
    can_read = actor.has_role(Role.MANAGER)
    fields = _catalog(session, actor, kind)
    lookups = _lookups(session, actor)
    by_key = {f.key: f for f in fields}
    rules = service.list_rules(session, actor, None) if can_read else []
    counts = {k.kind.value: sum(1 for r in rules if r.kind == k.kind.value) for k in KINDS.values()}
    rows = [_rule_row(r, by_key, lookups) for r in rules if r.kind == kind]
    state = builder or Builder(
        {"type": "visibility", "match": "all", "permission": "view"}, DEFAULT_ROWS, {}, [], {}
    )
    return render(
        request,
        "settings/rules.html",
        {
            "nav": "settings",
            "tab": "rules",
            "info": info,
            "kinds": list(KINDS.values()),
            "counts": counts,
            "can_read": can_read,
            "rules": rows,
            "fields": fields,
            "type_names": TYPE_NAMES,
            "operators": OPERATORS,
            "builder_rows": state.rows,
            "values": state.values,
            "errors": state.errors,
            "preview": preview,
            "fingerprint": fingerprint,
            "cap": settings_cap,
            "users": presenters.colleague_choices(session, actor),
            "teams": sorted(lookups.team_names.items(), key=lambda t: t[1].lower()),
            "partners": presenters.partner_choices(session, actor),
        },
        status_code=status_code,
    )


@router.get(RULES_URL)
def rules_page(
    request: Request,
    session: DB,
    settings: AppSettings,
    actor: PageActor,
    kind: KindParam = "opportunity",
) -> Response:
    return _rules_page(request, session, settings.rule_grant_cap, actor, _info(kind))


@router.post(RULES_URL)
def submit_rule(
    request: Request, session: DB, settings: AppSettings, actor: PageActor, form: FormInput
) -> Response:
    info = _info(form.text("kind"))
    kind = info.kind.value
    action = form.text("action")
    fields = _catalog(session, actor, kind)
    builder = _read_builder(form, fields, _lookups(session, actor), add_row=action == "add_row")
    cap = settings.rule_grant_cap

    def page(status: int, **extra: Any) -> Response:
        return _rules_page(
            request, session, cap, actor, info, builder=builder, status_code=status, **extra
        )

    if action == "add_row":
        return page(200)
    data = _rule_in(builder, kind)
    if builder.errors or data is None:
        return page(422)
    fingerprint = _fingerprint(data)
    rule_in = data  # narrowed: the lambdas below see a RuleIn

    def refused(problem: Problem) -> Response:
        builder.errors = _problem_errors(problem, builder)
        return page(problem.status if problem.status in (403, 422) else 422)

    if action != "save" or form.text("fingerprint") != fingerprint:
        return submit(
            session,
            lambda: service.preview(session, actor, rule_in),
            done=lambda count: page(200, preview=count, fingerprint=fingerprint),
            refused=refused,
            commit=False,
        )
    return submit(
        session,
        lambda: service.create_rule(session, settings, actor, rule_in),
        done=lambda rule: redirect(
            request, f"{RULES_URL}?kind={kind}", f"Rule “{rule.name}” saved. It applies at once."
        ),
        refused=refused,
    )


def _rule_action(
    request: Request,
    session: Session,
    settings: Settings,
    actor: Actor,
    rule_id: str,
    form: FormFields,
    action: str,
) -> Response:
    rid = parse_id(rule_id, "rule")
    rule = service.get_rule(session, actor, rid)
    back = f"{RULES_URL}?kind={rule.kind}"
    name = rule.name

    def change() -> str:
        version = form.version()
        if action == "delete":
            service.delete_rule(session, actor, rid, version)
            return f"Rule “{name}” deleted."
        data = RuleIn.model_validate(
            {
                "name": rule.name,
                "kind": rule.kind,
                "type": rule.type,
                "condition": rule.condition,
                "grantees": rule.grantees,
                "permission": rule.permission,
                "partnership_id": rule.partnership_id,
                "enabled": not rule.enabled,
            }
        )
        updated = service.update_rule(session, settings, actor, rid, data, version)
        return f"Rule “{name}” {'enabled' if updated.enabled else 'disabled'}."

    try:
        return submit(
            session,
            change,
            done=lambda message: redirect(request, back, message),
            refused=flash_back(request, back),
        )
    except ValidationError:  # a rule stored before today's limits
        session.rollback()
        return redirect(
            request, back, "This rule no longer fits the rule limits; delete it.", "error"
        )


@router.post(RULES_URL + "/{rule_id}/toggle")
def toggle_rule(
    request: Request,
    session: DB,
    settings: AppSettings,
    actor: PageActor,
    form: FormInput,
    rule_id: str,
) -> Response:
    return _rule_action(request, session, settings, actor, rule_id, form, "toggle")


@router.post(RULES_URL + "/{rule_id}/delete")
def delete_rule(
    request: Request,
    session: DB,
    settings: AppSettings,
    actor: PageActor,
    form: FormInput,
    rule_id: str,
) -> Response:
    return _rule_action(request, session, settings, actor, rule_id, form, "delete")


# -- teams ------------------------------------------------------------------------------------


def _teams_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    names = presenters.colleague_names(session, actor)
    teams = [service.team_out(session, t) for t in service.list_teams(session, actor)]
    return render(
        request,
        "settings/teams.html",
        {
            "nav": "settings",
            "tab": "teams",
            "teams": teams,
            "names": names,
            "users": presenters.colleague_choices(session, actor),
            "values": values or {},
            "errors": errors or {},
        },
        status_code=status_code,
    )


def _member_ids(form: FormFields) -> list[str]:
    return form.texts("members")


@router.get(TEAMS_URL)
def teams_page(request: Request, session: DB, actor: PageActor) -> Response:
    return _teams_page(request, session, actor)


@router.post(TEAMS_URL)
def create_team(request: Request, session: DB, actor: PageActor, form: FormInput) -> Response:
    values: dict[str, Any] = {"name": form.text("name"), "members": _member_ids(form)}
    try:
        data = TeamIn.model_validate(values)
    except ValidationError as exc:
        errors = errors_from_validation(exc)
        return _teams_page(request, session, actor, values=values, errors=errors, status_code=422)

    def refused(problem: Problem) -> Response:
        errors = {"name": problem.detail} if problem.status == 409 else _team_errors(problem)
        return _teams_page(
            request, session, actor, values=values, errors=errors, status_code=problem.status
        )

    return submit(
        session,
        lambda: service.create_team(session, actor, data.name, data.members),
        done=lambda team: redirect(request, TEAMS_URL, f"Team “{team.name}” created."),
        refused=refused,
    )


def _team_errors(problem: Problem) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in problem.errors or []:
        path = str(error.get("path", ""))
        target = "members" if path.startswith("body.members") else FORM_ERROR
        errors.setdefault(target, str(error.get("message", "")) or problem.detail)
    return errors or {FORM_ERROR: problem.detail}


@router.post(TEAMS_URL + "/{team_id}")
def update_team(
    request: Request, session: DB, actor: PageActor, form: FormInput, team_id: str
) -> Response:
    tid = parse_id(team_id, "team")
    name = form.text("name") or None
    try:
        patch = TeamPatch.model_validate({"name": name, "members": _member_ids(form)})
    except ValidationError:
        return redirect(request, TEAMS_URL, "Choose members from the list.", "error")
    return submit(
        session,
        lambda: service.update_team(session, actor, tid, patch.name, patch.members),
        done=lambda team: redirect(
            request, TEAMS_URL, f"Team “{team.name}” saved. Access follows at once."
        ),
        refused=flash_back(request, TEAMS_URL, problem_detail),
    )


@router.post(TEAMS_URL + "/{team_id}/delete")
def delete_team(request: Request, session: DB, actor: PageActor, team_id: str) -> Response:
    tid = parse_id(team_id, "team")

    def delete() -> str:
        name = service.get_team(session, actor, tid).name
        service.delete_team(session, actor, tid)
        return name

    return submit(
        session,
        delete,
        done=lambda name: redirect(request, TEAMS_URL, f"Team “{name}” deleted."),
        refused=flash_back(request, TEAMS_URL, problem_detail),
    )
