"""The Salesforce fake answers as Salesforce does, seen through the unchanged client."""

from __future__ import annotations

from datetime import timedelta

import pytest
from simple_salesforce import Salesforce, SalesforceMalformedRequest
from simple_salesforce.exceptions import SalesforceGeneralError, SalesforceRefusedRequest

from tests.fakes import soql
from tests.fakes.salesforce_api import FakeSalesforce
from tests.fakes.salesforce_org import UI_USER

DEAL = {"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2030-03-31"}


@pytest.fixture
def fake() -> FakeSalesforce:
    return FakeSalesforce()


def client(fake: FakeSalesforce, version: str = "59.0") -> Salesforce:
    return Salesforce(
        instance_url=fake.instance_url,
        session_id=fake.access_token,
        session=fake.session(),
        version=version,
    )


def test_soql_strings_with_quotes_keywords_and_like_wildcards_parse_faithfully() -> None:
    query = soql.parse(
        "select Id, Name from Account where (Name = 'O\\'Brien AND sons' or Name like '50\\%%')"
        " and Id not in ('001A', '001B') order by SystemModstamp desc nulls first, Id limit 5"
    )
    assert query.sobject == "Account"
    assert query.limit == 5
    assert soql.matches(query.where, {"Name": "o'brien and SONS", "Id": "001C"}, lambda f: False)
    assert soql.matches(query.where, {"Name": "50% off", "Id": "001C"}, lambda f: False)
    assert not soql.matches(query.where, {"Name": "500 off", "Id": "001C"}, lambda f: False)
    assert not soql.matches(query.where, {"Name": "50% off", "Id": "001A"}, lambda f: False)
    with pytest.raises(soql.SoqlError):
        soql.parse("SELECT Id FROM Account WHERE Name = 'unterminated")


def test_upsert_answers_201_then_200_or_204_before_api_46(fake: FakeSalesforce) -> None:
    sf = client(fake)
    created = sf.Opportunity.upsert("Coterie_Id__c/x-1", DEAL, raw_response=True)
    assert created.status_code == 201
    assert created.json()["created"] is True
    updated = sf.Opportunity.upsert("Coterie_Id__c/x-1", {"Amount": 10}, raw_response=True)
    assert updated.status_code == 200
    assert updated.json()["created"] is False
    assert client(fake, "45.0").Opportunity.upsert("Coterie_Id__c/x-1", {"Amount": 11}) == 204
    assert len(fake.records("Opportunity")) == 1


def test_if_unmodified_since_answers_412_once_the_record_changed(fake: FakeSalesforce) -> None:
    sf = client(fake)
    record_id = sf.Opportunity.create(DEAL)["id"]
    before = "Mon, 07 Jan 2030 09:00:00 GMT"
    fake.clock.advance(10)
    fake.ui_edit("Opportunity", record_id, Amount=5)
    with pytest.raises(SalesforceGeneralError) as raised:
        sf.Opportunity.update(record_id, {"Amount": 6}, headers={"If-Unmodified-Since": before})
    assert raised.value.status == 412
    assert fake.record(record_id)["LastModifiedById"] == UI_USER


def test_every_answer_carries_the_api_usage_and_the_daily_limit_refuses(
    fake: FakeSalesforce,
) -> None:
    sf = client(fake)
    fake.budget(used=0, limit=2)
    sf.query("SELECT Id FROM Account")
    sf.query("SELECT Id FROM Account")
    assert sf.api_usage["api-usage"].used == 2
    with pytest.raises(SalesforceRefusedRequest) as raised:
        sf.query("SELECT Id FROM Account")
    assert raised.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    assert raised.value.content[0]["message"] == "TotalRequests Limit exceeded."


def test_an_unknown_column_is_invalid_field(fake: FakeSalesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as raised:
        client(fake).query("SELECT Id, Nope__c FROM Account")
    assert raised.value.content[0]["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Nope__c'" in raised.value.content[0]["message"]


def test_a_late_commit_is_invisible_until_it_lands_with_its_earlier_stamp(
    fake: FakeSalesforce,
) -> None:
    sf = client(fake)
    record_id = fake.late_commit("Account", {"Name": "Slow"}, visible_after=30)
    fake.clock.advance(10)
    fake.create("Account", Name="Fast")
    assert [r["Name"] for r in sf.query("SELECT Name FROM Account")["records"]] == ["Fast"]
    fake.clock.advance(25)
    rows = sf.query("SELECT Id, Name FROM Account ORDER BY SystemModstamp, Id")["records"]
    assert [r["Name"] for r in rows] == ["Slow", "Fast"]
    assert rows[0]["Id"] == record_id


def test_a_skewed_org_clock_stamps_its_records_and_its_date_header(fake: FakeSalesforce) -> None:
    fake.skew(-90)
    record_id = fake.create("Account", Name="Skewed")
    assert fake.record(record_id)["SystemModstamp"] == fake.clock.now() - timedelta(seconds=90)
    answer = fake.session().get(
        f"{fake.instance_url}/services/data/v59.0/limits/",
        headers={"Authorization": f"Bearer {fake.access_token}"},
    )
    assert answer.headers["Date"] == "Mon, 07 Jan 2030 08:58:30 GMT"


def test_get_updated_and_get_deleted_report_the_window(fake: FakeSalesforce) -> None:
    sf = client(fake)
    start = fake.clock.now()
    kept, removed = fake.create("Account", Name="Kept"), fake.create("Account", Name="Removed")
    fake.clock.advance(120)
    fake.delete(removed)
    fake.clock.advance(120)
    end = fake.clock.now()
    assert sf.Account.updated(start, end)["ids"] == [kept]
    deleted = sf.Account.deleted(start, end)["deletedRecords"]
    assert [d["id"] for d in deleted] == [removed]


def test_collections_all_or_none_rolls_every_record_back(fake: FakeSalesforce) -> None:
    sf = client(fake)
    records = [
        {"attributes": {"type": "Account"}, "Name": "Good"},
        {"attributes": {"type": "Account"}},
    ]
    answer = sf.restful(
        "composite/sobjects", method="POST", json={"allOrNone": True, "records": records}
    )
    assert [a["success"] for a in answer] == [False, False]
    assert answer[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert answer[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert fake.records("Account") == []


def test_a_throttled_call_answers_429_with_retry_after(fake: FakeSalesforce) -> None:
    fake.throttle(1, retry_after=7)
    answer = fake.session().get(
        f"{fake.instance_url}/services/data/v59.0/query/?q=SELECT+Id+FROM+Account",
        headers={"Authorization": f"Bearer {fake.access_token}"},
    )
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "7"
    assert fake.calls["query"] == 0
