"""The Salesforce connector against the fake org, through simple-salesforce unchanged."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from importlib.metadata import entry_points

import pytest

from coterie.sync.connectors import salesforce
from coterie.sync.connectors.base import (
    AuthExpired,
    BadSignature,
    Cursor,
    MatchProbe,
    PermanentError,
    PermissionDenied,
    RateLimited,
    RemoteConflict,
    RemoteNotFound,
    RemoteRef,
    TransientError,
    UnknownField,
)
from coterie.sync.connectors.registry import GROUP
from coterie.sync.connectors.salesforce import SalesforceConnector
from tests.fakes.salesforce_api import FakeSalesforce, signed_webhook
from tests.fakes.salesforce_org import API_USER, AUTOMATION_USER, UI_USER

EXT = "0190c2f4-6d9e-7a51-9f34-3b1d2c4e5f60"
DEAL = {"Name": "Acme renewal", "StageName": "Prospecting", "CloseDate": date(2030, 3, 31)}


@pytest.fixture
def fake() -> FakeSalesforce:
    return FakeSalesforce()


@pytest.fixture
def crm(fake: FakeSalesforce) -> SalesforceConnector:
    credentials = {"instance_url": fake.instance_url, "access_token": fake.access_token}
    return SalesforceConnector(credentials, session=fake.session(), clock=fake.clock.now)


def test_the_entry_point_finds_the_connector_and_the_client_talks_to_the_fake(
    fake: FakeSalesforce, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(salesforce, "session_factory", fake.session)
    [point] = entry_points(group=GROUP, name="salesforce")  # as the registry loads it
    cls = point.load()
    crm = cls({"instance_url": fake.instance_url, "access_token": fake.access_token})
    assert crm.check() == (
        "Connected to Salesforce (coterie-test.my.salesforce.com) as integration@coterie.test"
    )
    opportunity = next(o for o in crm.objects() if o.name == "Opportunity")
    assert opportunity.kinds == ("lead", "opportunity")
    account_id = opportunity.field("AccountId")
    assert account_id is not None
    assert account_id.references == "Account"
    stage = opportunity.field("StageName")
    assert stage is not None
    assert stage.required
    assert "Closed Won" in stage.choices
    assert crm.budget.used == fake.api_used
    assert crm.budget.limit == 15000


def test_username_and_password_log_in_and_a_wrong_password_is_refused(
    fake: FakeSalesforce,
) -> None:
    good = {"username": fake.username, "password": fake.password, "security_token": "TOKEN"}
    crm = SalesforceConnector(good, session=fake.session())
    assert "as integration@coterie.test" in crm.check()
    bad = SalesforceConnector({**good, "password": "nope"}, session=fake.session())
    with pytest.raises(AuthExpired):
        bad.check()


def test_upsert_creates_then_updates_by_external_id_and_reads_back_typed_values(
    fake: FakeSalesforce, crm: SalesforceConnector
) -> None:
    account = fake.create("Account", Name="Acme")
    values = {**DEAL, "Amount": Decimal("1200.50"), "AccountId": RemoteRef("Account", account)}
    created = crm.upsert("Opportunity", EXT, values)
    assert created.created
    assert created.values["Amount"] == Decimal("1200.5")
    assert created.values["CloseDate"] == date(2030, 3, 31)
    assert created.values["AccountId"] == RemoteRef("Account", account)
    fake.clock.advance(5)
    updated = crm.upsert("Opportunity", EXT, {"StageName": "Qualification"})
    assert not updated.created
    assert updated.remote_id == created.remote_id
    assert updated.version > created.version
    [stored] = fake.records("Opportunity")
    assert stored["StageName"] == "Qualification"
    assert stored["LastModifiedById"] == API_USER


def test_a_write_that_committed_before_a_503_is_retried_into_the_same_record(
    fake: FakeSalesforce, crm: SalesforceConnector
) -> None:
    fake.fail_after_commit(1, status=503)
    with pytest.raises(TransientError):
        crm.upsert("Opportunity", EXT, DEAL)
    fake.drop_connection(1, after_commit=True)
    with pytest.raises(TransientError):
        crm.upsert("Opportunity", EXT, DEAL)
    result = crm.upsert("Opportunity", EXT, DEAL)
    assert not result.created
    assert len(fake.records("Opportunity")) == 1


def test_a_conditional_write_on_a_record_changed_in_salesforce_is_a_conflict(
    fake: FakeSalesforce, crm: SalesforceConnector
) -> None:
    first = crm.upsert("Opportunity", EXT, DEAL)
    fake.clock.advance(60)
    fake.ui_edit("Opportunity", first.remote_id, StageName="Negotiation/Review")
    with pytest.raises(RemoteConflict) as raised:
        crm.upsert(
            "Opportunity",
            EXT,
            {"StageName": "Closed Lost"},
            remote_id=first.remote_id,
            expected_version=first.version,
        )
    current = raised.value.current
    assert current is not None
    assert current.values["StageName"] == "Negotiation/Review"
    assert current.modified_by == UI_USER
    assert fake.record(first.remote_id)["StageName"] == "Negotiation/Review"
    fake.clock.advance(60)
    ok = crm.upsert(
        "Opportunity",
        EXT,
        {"StageName": "Closed Lost"},
        remote_id=first.remote_id,
        expected_version=current.version,
    )
    assert ok.values["StageName"] == "Closed Lost"


def test_a_conditional_retry_of_our_own_committed_write_is_not_a_conflict(
    fake: FakeSalesforce, crm: SalesforceConnector
) -> None:
    first = crm.upsert("Opportunity", EXT, DEAL)
    fake.clock.advance(60)
    fake.fail_after_commit(1)
    change = {"NextStep": "Call the CFO"}
    args = {"remote_id": first.remote_id, "expected_version": first.version}
    with pytest.raises(TransientError):
        crm.upsert("Opportunity", EXT, change, **args)
    fake.clock.advance(60)
    again = crm.upsert("Opportunity", EXT, change, **args)
    assert again.values["NextStep"] == "Call the CFO"
    assert fake.org.record_writes["api"] == 2


def test_read_changes_pages_through_equal_timestamps_without_losing_one(
    fake: FakeSalesforce, crm: SalesforceConnector
) -> None:
    fake.batch_size = 2  # queryMore inside each page, too
    ids = {fake.create("Account", Name=f"Account {n}") for n in range(7)}  # one stamp for all
    seen: list[str] = []
    cursor = Cursor()
    for _ in range(10):
        page = crm.read_changes("Account", cursor, limit=3)
        seen += [r.remote_id for r in page.records]
        cursor = page.cursor
        if not page.more:
            break
    assert sorted(seen) == sorted(ids)
    assert len(seen) == 7
    assert fake.calls["queryMore"] == 2  # pages of 3 rows, batches of 2
    fake.clock.advance(1)
    fake.ui_edit("Account", seen[0], Industry="Banking")
    page = crm.read_changes("Account", cursor, limit=3)
    assert [(r.remote_id, r.values["Industry"], r.modified_by) for r in page.records] == [
        (seen[0], "Banking", UI_USER)
    ]


def test_an_automation_rewrite_shows_as_the_automation_user(
    fake: FakeSalesforce, crm: SalesforceConnector
) -> None:
    fake.automation("Opportunity", "ForecastCategoryName", lambda r: "Pipeline")
    result = crm.upsert("Opportunity", EXT, DEAL)
    assert result.values["ForecastCategoryName"] == "Pipeline"
    [record] = crm.read_changes("Opportunity", Cursor(), limit=10).records
    assert record.modified_by == AUTOMATION_USER
    assert fake.org.record_writes == {"api": 1, "automation": 1}


def test_deletes_merges_and_purges_come_back_as_tombstones(
    fake: FakeSalesforce, crm: SalesforceConnector
) -> None:
    master = fake.create("Account", Name="Acme")
    loser = fake.create("Account", Name="ACME Inc")
    gone = fake.create("Account", Name="Old Co")
    binned = fake.create("Account", Name="Binned Co")
    start = crm.read_changes("Account", Cursor(), limit=10).cursor
    fake.clock.advance(120)
    fake.merge(master, loser)
    fake.delete(binned)
    fake.purge(gone)
    fake.clock.advance(120)
    page = crm.read_changes("Account", Cursor(since=start.since), limit=10)
    tombstones = {t.remote_id: t for t in page.tombstones}
    assert tombstones[loser].merged_into == master
    assert tombstones[loser].archived
    assert tombstones[binned].archived
    assert tombstones[binned].merged_into is None
    assert not tombstones[gone].archived  # emptied from the recycle bin: found by getDeleted
    assert [r.remote_id for r in page.records] == [master]
    fake.undelete(binned)
    later = crm.read_changes("Account", page.cursor, limit=10)
    assert [r.remote_id for r in later.records] == [binned]


def test_429_with_retry_after_and_the_daily_budget(
    fake: FakeSalesforce, crm: SalesforceConnector
) -> None:
    fake.throttle(1, retry_after=17)
    with pytest.raises(RateLimited) as raised:
        crm.read_changes("Account", Cursor(), limit=10)
    assert raised.value.retry_after == 17
    assert not raised.value.daily
    crm.read_changes("Account", Cursor(), limit=10)
    fake.budget(limit=fake.api_used)
    with pytest.raises(RateLimited) as daily:
        crm.upsert("Account", EXT, {"Name": "Acme"})
    assert daily.value.daily
    assert crm.budget.used == crm.budget.limit
    assert fake.records("Account") == []


def test_an_expired_session_asks_for_a_reconnection(
    fake: FakeSalesforce, crm: SalesforceConnector
) -> None:
    crm.check()
    fake.expire_session()
    with pytest.raises(AuthExpired):
        crm.fetch("Account", ["0015g00000000G9AAI"])


def test_a_field_removed_from_the_schema_is_named(
    fake: FakeSalesforce, crm: SalesforceConnector
) -> None:
    crm.upsert("Opportunity", EXT, DEAL)
    crm.read_changes("Opportunity", Cursor(), limit=10)  # describe cached with NextStep
    fake.remove_field("Opportunity", "NextStep")
    with pytest.raises(UnknownField) as on_read:
        crm.read_changes("Opportunity", Cursor(), limit=10)
    assert on_read.value.field_name == "NextStep"
    page = crm.read_changes("Opportunity", Cursor(), limit=10)  # described anew
    assert "NextStep" not in page.records[0].values
    with pytest.raises(UnknownField) as on_write:
        crm.upsert("Opportunity", EXT, {"NextStep": "Call"})
    assert on_write.value.field_name == "NextStep"


def test_no_access_is_told_apart_from_deleted(
    fake: FakeSalesforce, crm: SalesforceConnector
) -> None:
    hidden = fake.create("Account", Name="Secret Co")
    deleted = fake.create("Account", Name="Gone Co")
    fake.deny(hidden)
    fake.delete(deleted)
    assert crm.fetch("Account", [deleted]) == []
    with pytest.raises(PermissionDenied):
        crm.fetch("Account", [hidden])
    with pytest.raises(PermissionDenied):
        crm.upsert("Account", EXT, {"Name": "x"}, remote_id=hidden)
    with pytest.raises(RemoteNotFound):
        crm.upsert("Account", EXT, {"Name": "x"}, remote_id=deleted)
    crm.delete("Account", deleted)  # already gone is success


def test_a_validation_error_is_permanent(fake: FakeSalesforce, crm: SalesforceConnector) -> None:
    with pytest.raises(PermanentError, match="REQUIRED_FIELD_MISSING"):
        crm.upsert("Opportunity", EXT, {"Name": "No stage"})
    with pytest.raises(PermanentError, match="restricted picklist"):
        crm.upsert("Opportunity", EXT, {**DEAL, "StageName": "Dreaming"})
    assert fake.records("Opportunity") == []


def test_candidates_by_external_id_then_domain_then_name(
    fake: FakeSalesforce, crm: SalesforceConnector
) -> None:
    by_domain = fake.create("Account", Name="Umbrella", Website="https://www.acme.example")
    by_name = fake.create("Account", Name="Acme Rockets Ltd")
    fake.create("Account", Name="Globex")
    probe = MatchProbe(external_id=EXT, name="Acme Rockets", domain="acme.example")
    found = [r.remote_id for r in crm.find_candidates("Account", probe)]
    assert found == [by_domain, by_name]
    fake.ui_edit("Account", by_name, Coterie_Id__c=EXT)
    assert [r.remote_id for r in crm.find_candidates("Account", probe)] == [by_name]


def test_upsert_many_writes_collections_of_200(
    fake: FakeSalesforce, crm: SalesforceConnector
) -> None:
    rows = [(f"ext-{n}", {**DEAL, "Name": f"Deal {n}"}) for n in range(250)]
    rows.append(("ext-bad", {"Name": "no stage"}))
    results = crm.upsert_many("Opportunity", rows)
    assert sum(1 for r in results if not isinstance(r, Exception) and r.created) == 250
    assert isinstance(results[-1], PermanentError)
    assert fake.calls["collections.upsert"] == 2
    again = crm.upsert_many("Opportunity", rows[:3])
    assert all(not isinstance(r, Exception) and not r.created for r in again)
    assert len(fake.records("Opportunity")) == 250


# --- pushes ---------------------------------------------------------------------------------

SECRET = "whsec-test"
EVENT = {
    "event_id": "evt-1",
    "object": "Opportunity",
    "record_id": "0065g00000000GAAA0",
    "occurred_at": "2030-01-07T09:00:00Z",
    "deleted": False,
}


def test_a_signed_push_is_parsed(fake: FakeSalesforce, crm: SalesforceConnector) -> None:
    headers, body = signed_webhook(SECRET, [EVENT], timestamp=fake.clock.now().timestamp())
    [event] = crm.parse_webhook(headers, body, SECRET)
    assert (event.event_id, event.object, event.remote_id) == (
        "evt-1",
        "Opportunity",
        "0065g00000000GAAA0",
    )
    assert event.occurred_at == fake.clock.now()
    assert not event.deleted


def test_a_push_with_a_bad_or_missing_signature_is_refused(
    fake: FakeSalesforce, crm: SalesforceConnector
) -> None:
    headers, body = signed_webhook(SECRET, [EVENT], timestamp=fake.clock.now().timestamp())
    with pytest.raises(BadSignature):
        crm.parse_webhook(headers, body, "another-secret")
    with pytest.raises(BadSignature):
        crm.parse_webhook(headers, body.replace(b"evt-1", b"evt-2"), SECRET)
    with pytest.raises(BadSignature):
        crm.parse_webhook({}, body, SECRET)


def test_a_replayed_or_stale_push_is_refused(
    fake: FakeSalesforce, crm: SalesforceConnector
) -> None:
    headers, body = signed_webhook(SECRET, [EVENT], timestamp=fake.clock.now().timestamp())
    fake.clock.advance(60)
    assert crm.parse_webhook(headers, body, SECRET)[0].event_id == "evt-1"  # the inbox dedups
    fake.clock.advance(timedelta(minutes=5).total_seconds())
    with pytest.raises(BadSignature):
        crm.parse_webhook(headers, body, SECRET)  # replayed after the window
    future = fake.clock.now() + timedelta(minutes=6)
    headers, body = signed_webhook(SECRET, [EVENT], timestamp=future.timestamp())
    with pytest.raises(BadSignature):
        crm.parse_webhook(headers, body, SECRET)
