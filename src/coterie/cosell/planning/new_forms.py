"""What a "New program" and a "New plan" dialog ask beyond the record's name and description,
saved in the same transaction as the new record (`coterie.records.forms` extensions):

- a program: its type, region, dates and status (the program profile);
- a plan: its program, period and status (the plan profile), a partner to invite, and a first
  joint goal (metric and target).

Each input is read and checked here; what the services refuse comes back as an error next to
the input it is about. `install()` registers both at start-up (`coterie.wiring`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.cosell.planning import goals, programs
from coterie.cosell.planning.labels import METRIC_LABELS, PROGRAM_TYPES, STATUSES
from coterie.cosell.planning.pages import visible_choices
from coterie.cosell.schemas import (
    VALUE_METRICS,
    GoalIn,
    PlanProfileIn,
    ProgramProfileIn,
    ProgramType,
    Status,
)
from coterie.kit.problems import Problem
from coterie.models.vocabulary import Region
from coterie.records import admission, forms, presenters
from coterie.records.forms import ExtraInput
from coterie.web.forms import FormFields, input_errors
from coterie.web.templating import options

PROGRAM_INPUTS = ("program_type", "region", "starts_on", "ends_on", "status")
PLAN_INPUTS = ("program_id", "period_start", "period_end", "status")
GOAL_INPUTS = ("goal_metric", "goal_target", "goal_currency")
VALUE_METRIC_KEYS = frozenset(m.value for m in VALUE_METRICS)


# the API's field names, as the dialog's labels say them
SPOKEN = {
    "starts_on": "the start date",
    "period_start": "the period start",
    "breakdown_dimension": "the slice",
}


def _spoken(message: str) -> str:
    for key, words in SPOKEN.items():
        message = message.replace(key, words)
    return message


def _renamed(problem: Problem, names: Mapping[str, str] | None = None) -> Problem:
    """`problem` with its body paths renamed to this form's inputs (`body.target` ->
    `body.goal_target`) and its messages in the dialog's words, so the dialog shows each
    message next to its input."""
    errors = []
    for error in problem.errors or []:
        path = str(error.get("path", ""))
        first = path.removeprefix("body.").split(".")[0]
        if path.startswith("body.") and first in (names or {}):
            path = f"body.{(names or {})[first]}"
        message = _spoken(str(error.get("message", "")))
        errors.append({**error, "path": path, "message": message})
    return Problem(
        problem.status,
        problem.slug,
        problem.title,
        _spoken(problem.detail),
        errors=errors or None,
        headers=problem.headers,
    )


class ProgramExtension:
    template = "cosell/_new_program_fields.html"

    def context(self, session: Session, actor: Actor, preset: Mapping[str, str]) -> dict[str, Any]:
        return {
            "program_types": list(PROGRAM_TYPES.items()),
            "regions": options(Region),
            "statuses": STATUSES,
        }

    def read(self, form: FormFields) -> ExtraInput:
        inputs = {key: form.text(key) for key in PROGRAM_INPUTS}
        given = {k: v for k, v in inputs.items() if v}
        is_default = given.get("program_type", ProgramType.CO_SELL.value) == "co-sell" and (
            given.get("status", Status.DRAFT.value) == Status.DRAFT.value
        )
        if is_default and not ({"region", "starts_on", "ends_on"} & set(given)):
            return ExtraInput(inputs)  # nothing beyond the defaults: no profile to save yet
        try:
            data = ProgramProfileIn.model_validate(given)
        except ValidationError as exc:
            return ExtraInput(inputs, input_errors(exc))

        def save(session: Session, actor: Actor, record_id: uuid.UUID) -> None:
            try:
                programs.save_program(session, actor, record_id, data, 0)
            except Problem as problem:
                raise _renamed(problem) from None

        return ExtraInput(inputs, save=save)


class PlanExtension:
    template = "cosell/_new_plan_fields.html"

    def context(self, session: Session, actor: Actor, preset: Mapping[str, str]) -> dict[str, Any]:
        return {
            "program_choices": visible_choices(session, actor.principal, "program", set()),
            "partner_choices": presenters.partner_choices(session, actor),
            "statuses": STATUSES,
            "metrics": list(METRIC_LABELS.items()),
            "currencies": forms.currency_choices(actor.company.currency),
        }

    def read(self, form: FormFields) -> ExtraInput:
        inputs = {key: form.text(key) for key in (*PLAN_INPUTS, *GOAL_INPUTS, "partner_id")}
        inputs["goal_currency"] = inputs["goal_currency"].upper()
        errors: dict[str, str] = {}
        profile = {k: inputs[k] for k in PLAN_INPUTS if inputs[k]}
        plan: PlanProfileIn | None = None
        try:
            plan = PlanProfileIn.model_validate(profile) if profile else None
        except ValidationError as exc:
            errors |= input_errors(exc)
        goal: GoalIn | None = None
        if inputs["goal_target"]:
            body = {"metric": inputs["goal_metric"], "target": inputs["goal_target"]}
            if inputs["goal_currency"] and inputs["goal_metric"] in VALUE_METRIC_KEYS:
                body["currency"] = inputs["goal_currency"]
            try:
                goal = GoalIn.model_validate(body)
            except ValidationError as exc:
                errors |= input_errors(exc, "goal_")
        partner: uuid.UUID | None = None
        if inputs["partner_id"]:
            try:
                partner = uuid.UUID(inputs["partner_id"])
            except ValueError:
                errors["partner_id"] = "Choose one of your partners."
        if errors:
            return ExtraInput(inputs, errors)

        def save(session: Session, actor: Actor, record_id: uuid.UUID) -> None:
            if plan is not None:
                try:
                    programs.save_plan(session, actor, record_id, plan, 0)
                except Problem as problem:
                    raise _renamed(problem) from None
            if goal is not None:
                try:
                    goals.create(session, actor, record_id, goal)
                except Problem as problem:
                    names = {"target": "goal_target", "currency": "goal_currency"}
                    raise _renamed(problem, names | {"metric": "goal_metric"}) from None
            if partner is not None:
                try:
                    admission.invite(session, actor, "plan", record_id, partner)
                except Problem as problem:
                    raise _renamed(problem, {"company_id": "partner_id"}) from None

        return ExtraInput(inputs, save=save)


def install() -> None:
    forms.install_extension("program", ProgramExtension())
    forms.install_extension("plan", PlanExtension())
