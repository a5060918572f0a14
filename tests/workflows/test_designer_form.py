"""The workflow designer's form as a definition: posted fields read in order, keys derived from
labels (and kept on rename), every mistake a person can make named on its field, approvals per
stage turned into transitions, and a stored definition read back into the same design."""

from __future__ import annotations

from coterie.workflows.designer_form import (
    CHOSEN,
    Choices,
    Design,
    design_of,
    field_of,
    free_pairs,
    parse,
    slug,
    translate,
)

CHOICES = Choices(
    fields=frozenset({"mine.amount", "mine.close_date", "customer_name"}),
    owners=frozenset({"record_owner", "mover", "u-1"}),
    companies=frozenset({"host", "c-9"}),
)


def _form(*stages: dict[str, str], **extra: str | list[str]) -> dict[str, list[str]]:
    form: dict[str, list[str]] = {"name": ["Deals"], "active": ["1"]}
    for i, stage in enumerate(stages):
        form[f"stages-{i}-uid"] = [stage.pop("uid", f"new-{i}")]
        for key, value in stage.items():
            form[f"stages-{i}-{key}"] = [value]
    for key, value in extra.items():
        form[key] = value if isinstance(value, list) else [value]
    return form


def _three(**first: str) -> dict[str, list[str]]:
    return _form(
        {"label": "Qualify", "category": "open", **first},
        {"label": "Closed: won!", "category": "won"},
        {"label": "Lost", "category": "lost"},
    )


def test_a_design_becomes_stages_with_keys_from_labels_and_free_moves() -> None:
    form = _three(
        **{
            "criteria-0-field": "mine.amount",
            "steps-0-title": "Call the customer",
            "steps-0-owner": "record_owner",
            "steps-0-due": "7",
        }
    )
    result = translate(parse(form), CHOICES)
    assert result.errors == {}
    assert [(s["key"], s["name"], s["category"]) for s in result.stages] == [
        ("qualify", "Qualify", "open"),
        ("closed_won", "Closed: won!", "won"),
        ("lost", "Lost", "lost"),
    ]
    assert result.stages[0]["required_fields"] == ["mine.amount"]
    assert result.stages[0]["steps"] == [
        {"title": "Call the customer", "owner": "record_owner", "due_in_days": 7}
    ]
    assert result.transitions == []  # no approvals, any move: no transitions at all


def test_a_renamed_stage_keeps_its_key_and_a_new_one_never_takes_it() -> None:
    form = _form(
        {"uid": "won", "key": "won", "label": "Signed", "category": "won"},
        {"label": "Won", "category": "open"},
        {"label": "Lost", "category": "lost"},
    )
    result = translate(parse(form), CHOICES)
    assert result.errors == {}
    assert [s["key"] for s in result.stages] == ["won", "won_2", "lost"]


def test_every_mistake_is_named_on_its_field_and_nothing_is_translated() -> None:
    form = _form(
        {"label": "Qualify", "category": "open", "criteria-0-field": "mine.nope"},
        {"label": "qualify ", "category": "open", "steps-0-title": "", "steps-0-owner": "x"},
        {"label": "", "category": "maybe", "steps-0-title": "Go", "steps-0-due": "-3"},
        {"label": "Done", "category": "open", "approvals-0-company": "c-404"},
        name="",
    )
    result = translate(parse(form), CHOICES)
    assert result.stages == []
    assert result.transitions == []
    assert result.errors == {
        "name": "Give the workflow a name.",
        "stages": "Mark one stage as won and one as lost: where records end when they succeed "
        "and when they are lost.",
        "stages-0-criteria-0-field": "Choose a field from the list.",
        "stages-1-label": "Stage 1 is already called “Qualify”.",
        "stages-1-steps-0-title": "Say what the step is.",
        "stages-1-steps-0-owner": "Choose who does the step.",
        "stages-2-label": "Give this stage a name.",
        "stages-2-category": "Choose open, won or lost.",
        "stages-2-steps-0-owner": "Choose who does the step.",
        "stages-2-steps-0-due": "Enter a number of days from 0 to 3650, or leave empty.",
        "stages-3-approvals-0-company": "Choose which company approves.",
        "stages-3-approvals-0-role": "Choose a role.",
    }


def test_only_a_missing_lost_stage_is_asked_for() -> None:
    form = _form({"label": "Open", "category": "open"}, {"label": "Won", "category": "won"})
    assert translate(parse(form), CHOICES).errors == {
        "stages": "Mark a stage as lost: where records end when they are lost."
    }
    assert translate(Design(name="Empty"), CHOICES).errors == {
        "stages": "Add the workflow's stages."
    }


def test_approvals_of_a_stage_guard_every_move_into_it_and_keep_other_moves_free() -> None:
    form = _three()
    form |= {
        "stages-1-approvals-0-company": ["c-9"],
        "stages-1-approvals-0-role": ["admin"],
        "stages-1-approvals-1-company": ["host"],
        "stages-1-approvals-1-role": ["manager"],
        "stages-1-mode": ["parallel"],
    }
    result = translate(parse(form), CHOICES)
    assert result.errors == {}
    pairs = [(t["from"], t["to"]) for t in result.transitions]
    assert pairs == free_pairs(["qualify", "closed_won", "lost"], ["open", "won", "lost"])
    into_won = [t for t in result.transitions if t["to"] == "closed_won"]
    both = [{"company": "c-9", "role": "admin"}, {"company": "host", "role": "manager"}]
    assert into_won
    assert all(t["approvals"] == both for t in into_won)
    assert all(t["mode"] == "parallel" for t in into_won)
    assert all("approvals" not in t for t in result.transitions if t["to"] != "closed_won")
    # a refusal of the second approval of a move into "closed_won" lands on its select
    index = next(i for i, t in enumerate(result.transitions) if t["to"] == "closed_won")
    assert (
        field_of(f"body.transitions.{index}.approvals.1.company", result.transition_targets)
        == "stages-1-approvals-1-company"
    )


def test_ticked_moves_become_transitions_by_stage_key() -> None:
    form = _three() | {"moves_mode": [CHOSEN], "moves": ["new-0>new-1", "*>new-2", "new-1>new-1"]}
    result = translate(parse(form), CHOICES)
    assert result.errors == {}
    assert result.transitions == [
        {"from": "qualify", "to": "closed_won"},
        {"from": "*", "to": "lost"},
    ]
    nothing = _three() | {"moves_mode": [CHOSEN]}
    assert translate(parse(nothing), CHOICES).errors == {
        "moves": "Tick at least one move, or allow any move."
    }


def test_a_stored_definition_reads_back_as_the_same_design() -> None:
    stages = [
        {
            "key": "qualify",
            "name": "Qualify",
            "category": "open",
            "required_fields": ["mine.amount"],
            "steps": [{"title": "Call", "owner": "u-1", "due_in_days": 3}],
        },
        {"key": "won", "name": "Won", "category": "won", "required_fields": [], "steps": []},
        {"key": "lost", "name": "Lost", "category": "lost", "required_fields": [], "steps": []},
    ]
    approvals = [{"company": "host", "role": "admin"}]
    free = [
        {"from": a, "to": b}
        | ({"approvals": approvals, "mode": "sequential"} if b == "won" else {})
        for a, b in free_pairs(["qualify", "won", "lost"], ["open", "won", "lost"])
    ]
    design = design_of("Deals", True, stages, free)
    assert design.moves_mode == "free"
    assert [(s.key, s.label) for s in design.stages] == [
        ("qualify", "Qualify"),
        ("won", "Won"),
        ("lost", "Lost"),
    ]
    assert design.stages[0].steps[0].due == "3"
    assert design.stages[0].criteria == ["mine.amount"]
    assert [(a.company, a.role) for a in design.stages[1].approvals] == [("host", "admin")]
    again = translate(design, CHOICES)
    assert again.errors == {}
    assert again.stages == stages
    assert again.transitions == free

    chosen = design_of("Deals", True, stages, [{"from": "qualify", "to": "won"}])
    assert (chosen.moves_mode, chosen.moves) == (CHOSEN, ["qualify>won"])


def test_slugs_and_service_paths() -> None:
    assert slug("Négociation & contrat") == "negociation_contrat"
    assert slug("!!!") == "stage"
    assert field_of("body.stages.2.required_fields.1", []) == "stages-2-criteria-1-field"
    assert field_of("body.stages.0.steps.3.due_in_days", []) == "stages-0-steps-3-due"
    assert field_of("body.stages.4.key", []) == "stages-4-label"
    assert field_of("body.name", []) == "name"
    assert field_of("body.transitions.0.to", [1]) == "moves"
    assert field_of("body.kind", []) == "form"
