"""The report builder's filter rows: what they offer, what they compile to, and what the engine
does with it. Every operator of every field type compiles into a leaf the engine accepts and
counts by hand; a bad row is marked next to itself; a field the viewer cannot see is never
offered and is refused when posted anyway."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from coterie.reports.filter_rows import FilterField, FilterRow, Rows, compile_rows, rows_of
from coterie.reports.saved.builder import quarter_choices
from tests.fixtures.builders import Member, make_company, make_partnership
from tests.fixtures.cosell import fill, join, record, template
from tests.web.conftest import Browser
from tests.web.html import Page, parse
from tests.web.test_network_pages import signed_in
from tests.web.test_record_pages import htmx

RUN = "/api/v1/reports/run"
PARTNER_ID = "00000000-0000-0000-0000-0000000000aa"
USER_ID = "00000000-0000-0000-0000-0000000000bb"
FIELDS = {
    f.name: f
    for f in (
        FilterField("title", "Title", "text"),
        FilterField("mine.amount", "My amount", "number"),
        FilterField("mine.close_date", "My close date", "date"),
        FilterField(
            "mine.region", "My region", "enum", (("emea", "EMEA"), ("apac", "APAC"), ("na", "NA"))
        ),
        FilterField("mine.tags", "My tags", "multi_enum", (("a", "A"), ("b", "B"))),
        FilterField("mine.vip", "My VIP", "bool", (("true", "Yes"), ("false", "No"))),
        FilterField("mine.owner", "My owner", "user", ((USER_ID, "Ann"),)),
        FilterField("owner_company", "Owner company", "company", ((PARTNER_ID, "Globex"),)),
        FilterField("partner", "Partner company", "partner", ((PARTNER_ID, "Globex"),)),
    )
}


def _compile(*rows: FilterRow) -> tuple[list[dict[str, Any]], dict[str, str]]:
    found = Rows(list(rows))
    leaves, _ = compile_rows(found, FIELDS)
    return leaves, found.errors()


CASES: list[tuple[str, str, list[str], Any]] = [
    ("title", "eq", ["Alpha"], "Alpha"),
    ("title", "ne", ["Alpha"], "Alpha"),
    ("title", "starts_with", ["Al"], "Al"),
    ("mine.amount", "gte", ["25,000"], 25000),
    ("mine.amount", "lte", ["99.5"], 99.5),
    ("mine.amount", "gt", ["1"], 1),
    ("mine.amount", "lt", ["1 000"], 1000),
    ("mine.amount", "eq", ["100"], 100),
    ("mine.amount", "ne", ["100"], 100),
    ("mine.amount", "between", ["10", "2500"], [10, 2500]),
    ("mine.close_date", "between", ["2026-03-01", "2026-06-30"], ["2026-03-01", "2026-06-30"]),
    ("mine.close_date", "gte", ["2026-03-01"], "2026-03-01"),
    ("mine.close_date", "lte", ["2026-03-01"], "2026-03-01"),
    ("mine.close_date", "eq", ["2026-03-10"], "2026-03-10"),
    ("mine.close_date", "gt", ["2026-03-10"], "2026-03-10"),
    ("mine.close_date", "lt", ["2026-03-10"], "2026-03-10"),
    ("mine.region", "eq", ["emea"], "emea"),
    ("mine.region", "ne", ["emea"], "emea"),
    ("mine.region", "in", ["emea", "apac"], ["emea", "apac"]),
    ("mine.region", "not_in", ["na"], ["na"]),
    ("mine.tags", "contains", ["a"], "a"),
    ("mine.tags", "contains_any", ["a", "b"], ["a", "b"]),
    ("mine.vip", "eq", ["false"], False),
    ("mine.owner", "in", [USER_ID], [USER_ID]),
    ("owner_company", "ne", [PARTNER_ID], PARTNER_ID),
    ("partner", "eq", [PARTNER_ID], PARTNER_ID),
    ("partner", "not_in", [PARTNER_ID], [PARTNER_ID]),
]


@pytest.mark.parametrize(("name", "op", "values", "expected"), CASES)
def test_every_operator_of_every_field_type_compiles_to_the_engine_s_leaf(
    name: str, op: str, values: list[str], expected: Any
) -> None:
    leaves, errors = _compile(FilterRow(3, name, op, values))
    assert errors == {}
    assert leaves == [{"field": name, "op": op, "value": expected}]
    # and a saved report opens with the same row again
    [row] = rows_of(leaves).rows
    assert (row.name, row.op) == (name, op)
    assert compile_rows(Rows([row]), FIELDS)[0] == leaves


def test_empty_checks_take_no_value_and_never_offer_themselves_where_a_value_always_exists() -> (
    None
):
    leaves, errors = _compile(FilterRow(0, "mine.region", "is_null"), FilterRow(1, "title", "x"))
    assert leaves == [{"field": "mine.region", "op": "is_null"}]
    assert errors == {"filter.1": "Choose how to compare."}  # title is never empty
    assert "is_null" not in dict(FIELDS["title"].operators)
    assert "is_null" not in dict(FIELDS["partner"].operators)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (FilterRow(0, "mine.amount", "gte", ["lots"]), "Enter a value (a number, e.g. 25000)."),
        (FilterRow(0, "mine.amount", "between", ["5", ""]), "Enter both ends of the range"),
        (FilterRow(0, "mine.amount", "between", ["9", "5"]), "must not be greater than"),
        (FilterRow(0, "mine.close_date", "eq", ["31/12/2026"]), "Enter a value (a date)."),
        (FilterRow(0, "mine.region", "eq", ["mars"]), "Enter a value (choose one)."),
        (FilterRow(0, "mine.region", "in", []), "Choose at least one value."),
        (FilterRow(0, "partner", "eq", ["not-a-partner"]), "Enter a value (choose one)."),
        (FilterRow(0, "secret.amount", "gt", ["1"]), "not one you can see"),
    ],
)
def test_a_bad_row_gets_its_own_message_and_no_leaf(row: FilterRow, message: str) -> None:
    leaves, errors = _compile(FilterRow(1, "title", "eq", ["Alpha"]), row)
    assert leaves == [{"field": "title", "op": "eq", "value": "Alpha"}]
    assert message in errors["filter.0"]


def test_a_blank_row_is_ignored_and_conditions_rows_cannot_show_are_kept() -> None:
    assert _compile(FilterRow(0, "", "eq", ["x"])) == ([], {})
    nested = {"any": [{"field": "title", "op": "eq", "value": "A"}]}
    opened = rows_of([{"field": "title", "op": "eq", "value": "A"}, nested])
    assert [(r.name, r.values) for r in opened.rows] == [("title", ["A"])]
    assert opened.kept == [nested]
    leaves, _ = compile_rows(opened, FIELDS)
    assert leaves == [{"field": "title", "op": "eq", "value": "A"}, nested]
    # one condition object, or {"all": [...]} of leaves, open as rows too
    assert len(rows_of({"all": [{"field": "title", "op": "eq", "value": "A"}]}).rows) == 1
    assert len(rows_of({"field": "mine.region", "op": "is_null"}).rows) == 1


# --- against the engine and the pages -----------------------------------------------------------


def _network(client: TestClient) -> tuple[Member, Member, dict[str, str]]:
    """Acme (region shared with partners) and Globex (shares its region, keeps its amount
    private); Acme's deals Alpha, Beta, Gamma and the joint deal with Globex."""
    acme = make_company(client, "Acme", currency="USD")
    globex = make_company(client, "Globex", currency="USD")
    make_partnership(client, acme, globex)
    template(client, globex, "opportunity", region="participants")
    ids = {
        "Alpha": record(
            client, acme, "opportunity", "Alpha", amount=100, stage="develop", region="emea",
            close_date="2026-03-10", owner=acme.user_id,
        ),
        "Beta": record(
            client, acme, "opportunity", "Beta", amount=2500, stage="propose", region="apac",
            close_date="2026-06-20",
        ),
        "Gamma": record(client, acme, "opportunity", "Gamma", stage="won"),
        "Joint": record(
            client, acme, "opportunity", "Joint", amount=30000, stage="qualify", region="emea",
            close_date="2026-04-15",
        ),
    }  # fmt: skip
    join(client, acme, "opportunity", ids["Joint"], globex)
    fill(client, globex, "opportunity", ids["Joint"], amount=55, region="apac")
    return acme, globex, ids


def _count(client: TestClient, who: Member, filters: list[dict[str, Any]]) -> int:
    response = client.post(RUN, json={"filters": filters}, headers=who.headers)
    assert response.status_code == 200, response.text
    return int(response.json()["totals"]["measures"]["count"])


def test_compiled_rows_count_what_a_person_would_count(client: TestClient) -> None:
    acme, globex, _ = _network(client)
    fields = {
        **FIELDS,
        "partner": FilterField("partner", "Partner", "partner", ((globex.company_id, "Globex"),)),
        "mine.owner": FilterField("mine.owner", "Owner", "user", ((acme.user_id, "Admin"),)),
        f"{globex.company_id}.region": FilterField(
            f"{globex.company_id}.region", "Globex: Region", "enum", (("apac", "APAC"),)
        ),
    }

    def count(*rows: FilterRow) -> int:
        found = Rows(list(rows))
        leaves, _ = compile_rows(found, fields)
        assert found.errors() == {}
        return _count(client, acme, leaves)

    assert count() == 4
    assert count(FilterRow(0, "partner", "eq", [globex.company_id])) == 1
    assert count(FilterRow(0, "partner", "ne", [globex.company_id])) == 3
    assert count(FilterRow(0, "mine.amount", "gte", ["2,500"])) == 2
    assert count(FilterRow(0, "mine.amount", "between", ["100", "2500"])) == 2
    assert count(FilterRow(0, "mine.amount", "is_null")) == 1
    assert count(FilterRow(0, "mine.close_date", "between", ["2026-03-01", "2026-04-30"])) == 2
    assert count(FilterRow(0, "mine.region", "in", ["emea", "apac"])) == 3
    assert count(FilterRow(0, "mine.region", "is_null")) == 1
    assert count(FilterRow(0, "mine.owner", "eq", [acme.user_id])) == 1
    assert count(FilterRow(0, "title", "starts_with", ["g"])) == 1
    assert count(FilterRow(0, f"{globex.company_id}.region", "eq", ["apac"])) == 1
    # rows are ANDed: the partner's deals closing in April
    assert (
        count(
            FilterRow(0, "partner", "in", [globex.company_id]),
            FilterRow(1, "mine.close_date", "between", ["2026-04-01", "2026-04-30"]),
        )
        == 1
    )
    # the engine refuses a malformed partner leaf with its path, never a 500
    bad = client.post(
        RUN,
        json={"filters": [{"field": "partner", "op": "gt", "value": "x"}]},
        headers=acme.headers,
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["path"] == "body.filters.0.op"


def _row_page(browser: Browser, **query: str) -> Page:
    return browser.page("/reports/filter-row?" + "&".join(f"{k}={v}" for k, v in query.items()))


def _options(page: Page, name: str) -> list[tuple[str, str]]:
    select = next(s for s in page.root.find_all("select") if s.attrs.get("name") == name)
    return [(str(o.attrs.get("value", "")), o.text.strip()) for o in select.find_all("option")]


def test_the_rows_offer_only_fields_the_viewer_may_see_with_labels_and_fitting_inputs(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme, globex, _ = _network(client)
    browser = signed_in(new_browser, acme)
    row = _row_page(browser, kind="opportunity", index="2")
    fields = dict(_options(row, "filter.2.field"))
    assert fields["partner"] == "Partner company"
    assert fields["mine.amount"] == "My amount"
    assert fields[f"{globex.company_id}.region"] == "Globex: Region"  # shared with Acme
    assert f"{globex.company_id}.amount" not in fields  # Globex keeps it private
    assert not any(label.startswith(("mine.", "Globex: Amount")) for label in fields.values())

    # the field decides the conditions and the value input
    region = _row_page(browser, kind="opportunity", index="2", field="mine.region")
    assert dict(_options(region, "filter.2.op"))["in"] == "is any of"
    assert ("emea", "EMEA") in _options(region, "filter.2.value")
    many = _row_page(browser, kind="opportunity", index="2", field="mine.region", op="in")
    [values] = [s for s in many.root.find_all("select") if s.attrs.get("name") == "filter.2.value"]
    assert "multiple" in values.attrs
    close = _row_page(browser, kind="opportunity", index="2", field="mine.close_date", op="between")
    dates = [i for i in close.root.find_all("input") if i.attrs.get("type") == "date"]
    assert [d.attrs["name"] for d in dates] == ["filter.2.value", "filter.2.to"]
    partner = _row_page(browser, kind="opportunity", index="2", field="partner")
    assert (globex.company_id, "Globex") in _options(partner, "filter.2.value")

    # while Acme hides its private fields, its own private amount is not offered
    template(client, acme, "opportunity", amount="private", region="participants")
    assert "mine.amount" in dict(_options(_row_page(browser, kind="opportunity"), "filter.0.field"))
    response = client.patch(
        "/api/v1/me/preferences", json={"hide_private_fields": True}, headers=acme.headers
    )
    assert response.status_code == 200, response.text
    hidden = dict(_options(_row_page(browser, kind="opportunity"), "filter.0.field"))
    assert "mine.amount" not in hidden
    assert "mine.region" in hidden


def test_the_builder_saves_filter_rows_reopens_them_and_marks_a_bad_row(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme, globex, _ = _network(client)
    browser = signed_in(new_browser, acme)
    form = {
        "name": "Globex deals in spring",
        "kind": "opportunity",
        "chart_type": "bar",
        "group_by.0": "stage",
        "measures": ["count", "sum:mine.amount"],
        "filter_row": ["0", "4"],
        "filter.0.field": "partner",
        "filter.0.op": "eq",
        "filter.0.value": globex.company_id,
        "filter.4.field": "mine.close_date",
        "filter.4.op": "between",
        "filter.4.value": "2026-03-01",
        "filter.4.to": "2026-05-31",
    }
    preview = browser.client.post(
        "/reports/preview", data=form, headers=htmx(browser, "/reports/new")
    )
    assert preview.status_code == 200, preview.text
    assert "Qualify" in parse(preview.text).main_text or "Qualify" in preview.text
    assert "30,000.00" in preview.text
    assert "2,500.00" not in preview.text

    # a bad row: shown again with the message next to it, nothing saved
    bad = browser.submit("/reports/new", "/reports/new", {**form, "filter.4.to": "soon"})
    assert bad.status_code == 422
    errors = parse(bad.text).errors()
    assert "Enter both ends of the range" in errors["filter.4.field"]
    assert "filter.0.field" not in errors
    assert "Globex deals in spring" not in browser.page("/reports").main_text

    saved = browser.submit("/reports/new", "/reports/new", form)
    assert saved.status_code == 200, saved.text[:2000]
    report_id = saved.url.path.rsplit("/", 1)[-1]
    definition = client.get(f"/api/v1/reports/{report_id}", headers=acme.headers).json()
    assert definition["definition"]["filters"] == [
        {"field": "partner", "op": "eq", "value": globex.company_id},
        {"field": "mine.close_date", "op": "between", "value": ["2026-03-01", "2026-05-31"]},
    ]
    page = parse(saved.text)
    assert not page.root.find_all("textarea")  # no JSON anywhere in the builder
    fields = page.form(f"/reports/{report_id}").fields()
    assert fields["filter.0.field"] == "partner"
    assert fields["filter.0.value"] == globex.company_id
    assert fields["filter.1.op"] == "between"
    assert (fields["filter.1.value"], fields["filter.1.to"]) == ("2026-03-01", "2026-05-31")


def test_the_builder_offers_quarters_by_name_around_the_given_day() -> None:
    found = quarter_choices(date(2026, 12, 7), "")
    assert found[0] == ("2027-Q4", "Q4 2027")  # four ahead
    assert ("2026-Q4", "Q4 2026") in found
    assert found[-1] == ("2024-Q4", "Q4 2024")  # eight back
    assert len(found) == 13
    # a saved report's older quarter stays choosable; a malformed one is left to the form
    assert quarter_choices(date(2026, 12, 7), "2019-Q2")[0] == ("2019-Q2", "Q2 2019")
    assert quarter_choices(date(2026, 12, 7), "soon") == found
