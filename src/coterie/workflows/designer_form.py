"""The workflow designer's form: what the page's fields mean as a workflow definition, and back.

The designer posts indexed fields (`stages-0-label`, `stages-0-steps-1-due`, `moves`...); this
module reads them into a `Design`, checks what a person can get wrong (an empty or repeated
stage name, no won or no lost stage, a field or owner not offered) with a message per field,
and translates it to the stored shapes (`stages`, `transitions`) the definition service
validates and writes. It also turns a stored definition into a `Design` for the page, and a
service refusal's path (`body.stages.2.steps.0.owner`) into the field it concerns.

Stage keys are derived from labels (a slug) when a stage is new, and kept when a stage is
renamed (records hold the key). Approvals are set per stage: moving INTO the stage needs them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from coterie.models.vocabulary import Role
from coterie.workflows.stages import StageCategory

ANY_OPEN = "*"
FREE = "free"
CHOSEN = "chosen"
MAX_STAGES = 30
MAX_ITEMS = 20
MAX_DUE_DAYS = 3650
CATEGORIES = tuple(c.value for c in StageCategory)
ROLES = tuple(r.value for r in Role)
MODES = ("sequential", "parallel")

Form = Mapping[str, Sequence[str]]
_ENDINGS = {
    (False, False): "Mark one stage as won and one as lost: where records end when they succeed "
    "and when they are lost.",
    (False, True): "Mark a stage as won: where records end when they succeed.",
    (True, False): "Mark a stage as lost: where records end when they are lost.",
}


@dataclass
class StepRow:
    title: str = ""
    owner: str = "record_owner"
    due: str = ""


@dataclass
class ApprovalRow:
    company: str = ""
    role: str = Role.MANAGER.value


@dataclass
class StageRow:
    uid: str
    key: str = ""
    label: str = ""
    category: str = StageCategory.OPEN.value
    criteria: list[str] = field(default_factory=list)
    steps: list[StepRow] = field(default_factory=list)
    approvals: list[ApprovalRow] = field(default_factory=list)
    mode: str = "sequential"


@dataclass
class Design:
    """What the designer shows and posts: the workflow's name and its stages in order, and
    which moves are allowed (`FREE`: any stage to any other; `CHOSEN`: the `moves` ticked, each
    "<from uid>><to uid>", from "*" meaning any open stage)."""

    name: str = ""
    active: bool = True
    stages: list[StageRow] = field(default_factory=list)
    moves_mode: str = FREE
    moves: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Choices:
    """What the selects offer: the values a posted field may take."""

    fields: frozenset[str]
    owners: frozenset[str]
    companies: frozenset[str]


@dataclass
class Translation:
    """A design as stored shapes, or the messages by field name that stop it."""

    stages: list[dict[str, Any]]
    transitions: list[dict[str, Any]]
    errors: dict[str, str]
    # the stage index each transition goes to (to place a refusal of its approvals)
    transition_targets: list[int] = field(default_factory=list)


# -- reading the posted form ------------------------------------------------------------------


def first(form: Form, name: str) -> str:
    """The first value posted for `name`, stripped ("" when none)."""
    values = form.get(name) or ()
    return values[0].strip() if values else ""


def _count(form: Form, prefix: str, probe: str, limit: int) -> int:
    n = 0
    while n < limit and f"{prefix}-{n}-{probe}" in form:
        n += 1
    return n


def parse(form: Form) -> Design:
    """The design the page posted; rows past the limits are not read."""
    stages: list[StageRow] = []
    for i in range(_count(form, "stages", "uid", MAX_STAGES + 1)):
        p = f"stages-{i}"
        criteria = [
            first(form, f"{p}-criteria-{j}-field")
            for j in range(_count(form, f"{p}-criteria", "field", MAX_ITEMS + 1))
        ]
        steps = [
            StepRow(
                title=first(form, f"{p}-steps-{j}-title"),
                owner=first(form, f"{p}-steps-{j}-owner"),
                due=first(form, f"{p}-steps-{j}-due"),
            )
            for j in range(_count(form, f"{p}-steps", "title", MAX_ITEMS + 1))
        ]
        approvals = [
            ApprovalRow(
                company=first(form, f"{p}-approvals-{j}-company"),
                role=first(form, f"{p}-approvals-{j}-role"),
            )
            for j in range(_count(form, f"{p}-approvals", "company", MAX_ITEMS + 1))
        ]
        stages.append(
            StageRow(
                uid=first(form, f"{p}-uid") or f"row-{i}",
                key=first(form, f"{p}-key"),
                label=first(form, f"{p}-label"),
                category=first(form, f"{p}-category"),
                criteria=criteria,
                steps=steps,
                approvals=approvals,
                mode=first(form, f"{p}-mode") or "sequential",
            )
        )
    moves_mode = CHOSEN if first(form, "moves_mode") == CHOSEN else FREE
    return Design(
        name=first(form, "name"),
        active=first(form, "active").lower() in {"1", "on", "true", "yes"},
        stages=stages,
        moves_mode=moves_mode,
        moves=[m.strip() for m in form.get("moves") or () if m.strip()],
    )


# -- checking and translating -----------------------------------------------------------------


def slug(label: str) -> str:
    """A stage key from its label: "Closed - won!" -> "closed_won"."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")
    return text[:60].rstrip("_") or "stage"


def _keys(stages: list[StageRow]) -> list[str]:
    """Each stage's key: its stored one, else a slug of its label unique in the workflow."""
    kept = {s.key for s in stages if s.key}
    used: set[str] = set()
    keys: list[str] = []
    for stage in stages:
        key = stage.key
        if not key:
            base = slug(stage.label)
            key, n = base, 2
            while key in used or key in kept:
                suffix = f"_{n}"
                key, n = base[: 60 - len(suffix)] + suffix, n + 1
        used.add(key)
        keys.append(key)
    return keys


def _check_stage(
    i: int,
    stage: StageRow,
    seen: dict[str, tuple[int, str]],
    choices: Choices,
    errors: dict[str, str],
) -> None:
    p = f"stages-{i}"
    name = stage.label.casefold()
    if not stage.label:
        errors[f"{p}-label"] = "Give this stage a name."
    elif len(stage.label) > 80:
        errors[f"{p}-label"] = "Keep the name to 80 characters."
    elif name in seen:
        earlier, label = seen[name]
        errors[f"{p}-label"] = f"Stage {earlier + 1} is already called “{label}”."
    else:
        seen[name] = (i, stage.label)
    if stage.category not in CATEGORIES:
        errors[f"{p}-category"] = "Choose open, won or lost."
    chosen: set[str] = set()
    for j, criterion in enumerate(stage.criteria):
        if criterion not in choices.fields:
            errors[f"{p}-criteria-{j}-field"] = "Choose a field from the list."
        elif criterion in chosen:
            errors[f"{p}-criteria-{j}-field"] = "This field is already a criterion of the stage."
        chosen.add(criterion)
    for j, step in enumerate(stage.steps):
        q = f"{p}-steps-{j}"
        if not step.title:
            errors[f"{q}-title"] = "Say what the step is."
        elif len(step.title) > 200:
            errors[f"{q}-title"] = "Keep the step to 200 characters."
        if step.owner not in choices.owners:
            errors[f"{q}-owner"] = "Choose who does the step."
        if step.due and not (step.due.isdigit() and int(step.due) <= MAX_DUE_DAYS):
            errors[f"{q}-due"] = f"Enter a number of days from 0 to {MAX_DUE_DAYS}, or leave empty."
    for j, approval in enumerate(stage.approvals):
        q = f"{p}-approvals-{j}"
        if approval.company not in choices.companies:
            errors[f"{q}-company"] = "Choose which company approves."
        if approval.role not in ROLES:
            errors[f"{q}-role"] = "Choose a role."
    if stage.mode not in MODES:
        errors[f"{p}-mode"] = "Choose one after another or all at once."


def _stage_dict(stage: StageRow, key: str) -> dict[str, Any]:
    return {
        "key": key,
        "name": stage.label,
        "category": stage.category,
        "required_fields": list(stage.criteria),
        "steps": [
            {
                "title": s.title,
                "owner": s.owner,
                "due_in_days": int(s.due) if s.due else None,
            }
            for s in stage.steps
        ],
    }


def free_pairs(keys: list[str], categories: list[str]) -> list[tuple[str, str]]:
    """The transitions that allow every move: from any open stage to each stage, and from each
    closed (won or lost) stage to every other one."""
    pairs = [(ANY_OPEN, key) for key in keys]
    for source, category in zip(keys, categories, strict=True):
        if category != StageCategory.OPEN.value:
            pairs += [(source, key) for key in keys if key != source]
    return pairs


def _transitions(
    design: Design, keys: list[str]
) -> tuple[list[dict[str, Any]], list[int], dict[str, str]]:
    index = {key: i for i, key in enumerate(keys)}
    by_uid = {s.uid: key for s, key in zip(design.stages, keys, strict=True)}
    has_approvals = any(s.approvals for s in design.stages)
    if design.moves_mode == FREE:
        if not has_approvals:
            return [], [], {}
        pairs = free_pairs(keys, [s.category for s in design.stages])
    else:
        chosen: set[tuple[str, str]] = set()
        for move in design.moves:
            source, _, target = move.partition(">")
            source_key = ANY_OPEN if source == ANY_OPEN else by_uid.get(source)
            target_key = by_uid.get(target)
            if source_key and target_key and source_key != target_key:
                chosen.add((source_key, target_key))
        if not chosen:
            return [], [], {"moves": "Tick at least one move, or allow any move."}
        order = [ANY_OPEN, *keys]
        pairs = sorted(chosen, key=lambda p: (index[p[1]], order.index(p[0])))
    transitions: list[dict[str, Any]] = []
    targets: list[int] = []
    for source, target in pairs:
        stage = design.stages[index[target]]
        item: dict[str, Any] = {"from": source, "to": target}
        if stage.approvals:
            item["approvals"] = [{"company": a.company, "role": a.role} for a in stage.approvals]
            item["mode"] = stage.mode
        transitions.append(item)
        targets.append(index[target])
    return transitions, targets, {}


def translate(design: Design, choices: Choices) -> Translation:
    """The design as stored `stages` and `transitions`, with every message a person can act
    on (an empty result when any)."""
    errors: dict[str, str] = {}
    if not design.name:
        errors["name"] = "Give the workflow a name."
    elif len(design.name) > 120:
        errors["name"] = "Keep the name to 120 characters."
    if not design.stages:
        errors["stages"] = "Add the workflow's stages."
    elif len(design.stages) > MAX_STAGES:
        errors["stages"] = f"A workflow has at most {MAX_STAGES} stages."
    else:
        has = {s.category for s in design.stages}
        if not {"won", "lost"} <= has:
            errors["stages"] = _ENDINGS[("won" in has, "lost" in has)]
    seen: dict[str, tuple[int, str]] = {}
    for i, stage in enumerate(design.stages[:MAX_STAGES]):
        _check_stage(i, stage, seen, choices, errors)
    if errors:
        return Translation([], [], errors)
    keys = _keys(design.stages)
    transitions, targets, move_errors = _transitions(design, keys)
    if move_errors:
        return Translation([], [], move_errors)
    stages = [_stage_dict(s, k) for s, k in zip(design.stages, keys, strict=True)]
    return Translation(stages, transitions, {}, targets)


# -- a stored definition as a design ----------------------------------------------------------


def design_of(
    name: str, active: bool, stages: list[dict[str, Any]], transitions: list[dict[str, Any]]
) -> Design:
    """The design of a stored definition; a stage's approvals are those of the first move into
    it that has any."""
    rows: list[StageRow] = []
    for stage in stages:
        key = str(stage.get("key", ""))
        into = [t for t in transitions if t.get("to") == key and t.get("approvals")]
        approvals = into[0]["approvals"] if into else []
        rows.append(
            StageRow(
                uid=key,
                key=key,
                label=str(stage.get("name", "")),
                category=str(stage.get("category", "open")),
                criteria=[str(f) for f in stage.get("required_fields") or []],
                steps=[
                    StepRow(
                        title=str(s.get("title", "")),
                        owner=str(s.get("owner", "record_owner")),
                        due="" if s.get("due_in_days") is None else str(s["due_in_days"]),
                    )
                    for s in stage.get("steps") or []
                ],
                approvals=[
                    ApprovalRow(company=str(a.get("company", "")), role=str(a.get("role", "")))
                    for a in approvals
                ],
                mode=str(into[0].get("mode", "sequential")) if into else "sequential",
            )
        )
    pairs = [(str(t.get("from")), str(t.get("to"))) for t in transitions]
    keys = [r.key for r in rows]
    if not pairs or set(pairs) == set(free_pairs(keys, [r.category for r in rows])):
        return Design(name=name, active=active, stages=rows)
    return Design(
        name=name,
        active=active,
        stages=rows,
        moves_mode=CHOSEN,
        moves=[f"{a}>{b}" for a, b in pairs],
    )


# -- a refusal of the service, placed on its field ----------------------------------------------


def field_of(path: str, targets: list[int]) -> str:
    """The designer field a service path concerns (`body.stages.1.steps.0.owner` ->
    `stages-1-steps-0-owner`); "form" when none."""
    parts = path.removeprefix("body.").split(".")
    if parts[0] == "name":
        return "name"
    if parts[0] == "stages" and len(parts) >= 2 and parts[1].isdigit():
        p = f"stages-{parts[1]}"
        rest = parts[2:]
        if rest[:1] == ["required_fields"] and len(rest) >= 2:
            return f"{p}-criteria-{rest[1]}-field"
        if rest[:1] == ["steps"] and len(rest) >= 3:
            return f"{p}-steps-{rest[1]}-{'due' if rest[2] == 'due_in_days' else rest[2]}"
        return (
            f"{p}-label"
            if rest[:1] in (["key"], ["name"])
            else f"{p}-{rest[0] if rest else 'label'}"
        )
    if parts[0] == "transitions" and len(parts) >= 2 and parts[1].isdigit():
        i = int(parts[1])
        rest = parts[2:]
        if i < len(targets) and rest[:1] == ["approvals"] and len(rest) >= 3:
            return f"stages-{targets[i]}-approvals-{rest[1]}-{rest[2]}"
        return "moves"
    return "form"
