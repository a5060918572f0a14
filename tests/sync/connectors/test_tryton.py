"""The Tryton connector against a real Tryton 8.2 server (tests/fixtures/tryton_peer.py).

Each test makes its own records (external ids are fresh UUIDs) on the session's server, so the
tests share it without seeing each other's data where it matters.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from importlib.metadata import entry_points
from typing import Any, cast

import pytest

from coterie.sync.connectors.base import (
    AuthExpired,
    Cursor,
    FieldType,
    MatchProbe,
    PermanentError,
    PermissionDenied,
    RemoteConflict,
    RemoteNotFound,
    RemoteRecord,
    RemoteRef,
    TransientError,
    UnknownField,
    WriteResult,
)
from coterie.sync.connectors.registry import GROUP
from coterie.sync.connectors.tryton import OPPORTUNITY, PARTY, TrytonConnector
from tests.fixtures.tcp_proxy import TcpProxy
from tests.fixtures.tryton_peer import CONFIDENTIAL_MARK, TrytonServer, TrytonUser

pytestmark = pytest.mark.slow


@pytest.fixture
def connector(tryton_server: TrytonServer) -> Iterator[TrytonConnector]:
    tryton = TrytonConnector(tryton_server.credentials())
    yield tryton
    tryton.close()


def new_id() -> str:
    return str(uuid.uuid4())


def test_the_entry_point_names_the_tryton_connector() -> None:
    (point,) = entry_points(group=GROUP, name="tryton")
    assert point.load() is TrytonConnector
    assert TrytonConnector.capabilities.tombstones is False
    assert TrytonConnector.capabilities.webhooks is False
    secret = [f.name for f in TrytonConnector.credential_fields if f.secret]
    assert secret == ["password"]


def test_check_logs_in_and_names_the_user(connector: TrytonConnector) -> None:
    sentence = connector.check()
    assert "Coterie Sync (coterie)" in sentence
    assert "Tryton 8.2" in sentence


def test_objects_are_described_by_tryton(connector: TrytonConnector) -> None:
    objects = {o.name: o for o in connector.objects()}
    opportunity = objects[OPPORTUNITY]
    assert opportunity.kinds == ("lead", "opportunity")
    state = opportunity.field("state")
    assert state is not None
    assert state.choices == ("lead", "opportunity", "converted", "won", "lost", "cancelled")
    party = opportunity.field("party")
    assert party is not None
    assert (party.type, party.references) == (FieldType.REFERENCE, PARTY)
    currency = opportunity.field("currency")
    assert currency is not None
    assert currency.choices == ("EUR", "USD")
    number = opportunity.field("number")
    assert number is not None
    assert not number.writable
    assert objects[PARTY].kinds == ("account",)
    assert objects[PARTY].field("website") is not None


def test_an_upsert_creates_the_opportunity_a_tryton_user_then_sees(
    connector: TrytonConnector, tryton_user: TrytonUser
) -> None:
    external_id = new_id()
    close = date.today() + timedelta(days=90)
    result = connector.upsert(
        OPPORTUNITY,
        external_id,
        {
            "description": "Co-sell: data platform",
            "amount": Decimal("12500.00"),
            "currency": "eur",
            "end_date": close.isoformat(),
            "conversion_probability": 0.3,
            "comment": "From Coterie",
            "party": "Umbrella Research",
        },
    )
    assert result.created
    row = tryton_user.read_opportunity(int(result.remote_id))
    assert row is not None
    assert row["reference"] == external_id
    assert row["description"] == "Co-sell: data platform"
    assert row["amount"] == Decimal("12500.00")
    assert row["currency."]["code"] == "EUR"
    assert row["end_date"] == close
    assert row["party."]["name"] == "Umbrella Research"
    assert result.values["amount"] == Decimal("12500.00")
    assert result.values["currency"] == "EUR"
    assert result.values["party"] == RemoteRef(PARTY, str(row["party"]))
    assert result.version == row["_timestamp"]
    (fetched,) = connector.fetch(OPPORTUNITY, [result.remote_id])
    assert fetched.modified_by == "Coterie Sync"  # how the engine knows its own writes


def test_a_party_named_twice_is_found_not_created_again(
    connector: TrytonConnector, tryton_user: TrytonUser
) -> None:
    name = f"Initech {uuid.uuid4().hex[:8]}"
    first = connector.upsert(OPPORTUNITY, new_id(), {"description": "One", "party": name})
    second = connector.upsert(OPPORTUNITY, new_id(), {"description": "Two", "party": name.upper()})
    assert first.values["party"] == second.values["party"]
    assert len(tryton_user.search_parties([("name", "ilike", name)])) == 1


def test_the_same_upsert_twice_leaves_one_record(
    connector: TrytonConnector, tryton_user: TrytonUser
) -> None:
    """A retry after an unknown outcome (Tryton committed, our link was never saved) finds
    the record by its reference instead of creating a second one."""
    external_id = new_id()
    values = {"description": "Retried deal", "amount": Decimal("700")}
    first = connector.upsert(OPPORTUNITY, external_id, values)
    again = TrytonConnector(connector.credentials)  # a new worker process, after a crash
    second = again.upsert(OPPORTUNITY, external_id, values)
    again.close()
    assert (first.created, second.created) == (True, False)
    assert second.remote_id == first.remote_id
    assert second.version == first.version  # nothing needed writing
    assert len(tryton_user.search_opportunities([("reference", "=", external_id)])) == 1


def test_an_update_writes_only_what_changed_and_moves_the_state(
    connector: TrytonConnector, tryton_user: TrytonUser
) -> None:
    external_id = new_id()
    created = connector.upsert(
        OPPORTUNITY, external_id, {"description": "Qualify me", "party": "Stark Industries"}
    )
    updated = connector.upsert(
        OPPORTUNITY,
        external_id,
        {"description": "Qualified", "state": "opportunity"},
        remote_id=created.remote_id,
        expected_version=created.version,
    )
    assert updated.version != created.version
    row = tryton_user.read_opportunity(int(created.remote_id))
    assert row is not None
    assert (row["description"], row["state"]) == ("Qualified", "opportunity")
    lost = connector.upsert(
        OPPORTUNITY, external_id, {"state": "lost"}, expected_version=updated.version
    )
    assert lost.values["state"] == "lost"
    with pytest.raises(PermanentError, match="won"):
        connector.upsert(OPPORTUNITY, external_id, {"state": "won"})


def test_upsert_many_creates_new_opportunities_in_one_batch_and_keeps_the_order(
    connector: TrytonConnector, tryton_user: TrytonUser
) -> None:
    """A batch mixes a record Tryton already carries, new ones (one moved past "lead") and a
    value Tryton refuses: the refusal is that row's own error, every other row is written
    once, and the results come back in the rows' order."""
    existing = new_id()
    first = connector.upsert(OPPORTUNITY, existing, {"description": "Already there"})
    fresh = [new_id() for _ in range(3)]
    refused = new_id()
    rows = [
        (fresh[0], {"description": "Batch one", "amount": Decimal("100")}),
        (existing, {"description": "Already there"}),
        (refused, {"description": "Bad", "conversion_probability": 7}),
        (fresh[1], {"description": "Batch two", "state": "opportunity", "party": "Acme Rockets"}),
        (fresh[2], {"description": "Batch three", "party": "Wayne Enterprises"}),
    ]
    results = connector.upsert_many(OPPORTUNITY, rows)
    assert isinstance(results[2], PermanentError)
    written = [r for i, r in enumerate(results) if i != 2]
    assert all(isinstance(r, WriteResult) for r in written), [
        f"{type(r).__name__}: {r}" for r in results if not isinstance(r, WriteResult)
    ]
    one, there, two, three = cast(list[WriteResult], written)
    assert (one.created, there.created, two.created, three.created) == (True, False, True, True)
    assert there.remote_id == first.remote_id
    for external_id, result, description in (
        (fresh[0], one, "Batch one"),
        (fresh[1], two, "Batch two"),
        (fresh[2], three, "Batch three"),
    ):
        (found,) = tryton_user.search_opportunities([("reference", "=", external_id)])
        assert (found["id"], found["description"]) == (int(result.remote_id), description)
    state = tryton_user.read_opportunity(int(two.remote_id))
    assert state is not None
    assert state["state"] == "opportunity"
    assert tryton_user.search_opportunities([("reference", "=", refused)]) == []


def test_tryton_refusing_a_value_is_a_permanent_error_with_its_message(
    connector: TrytonConnector,
) -> None:
    with pytest.raises(PermanentError, match="Conversion Probability"):
        connector.upsert(OPPORTUNITY, new_id(), {"description": "x", "conversion_probability": 7})


def test_a_field_tryton_does_not_have_is_an_unknown_field(connector: TrytonConnector) -> None:
    with pytest.raises(UnknownField) as refused:
        connector.upsert(OPPORTUNITY, new_id(), {"description": "x", "probability": 0.5})
    assert refused.value.field_name == "probability"


def test_a_stale_conditional_write_is_a_conflict_carrying_tryton_s_values(
    connector: TrytonConnector, tryton_user: TrytonUser
) -> None:
    external_id = new_id()
    created = connector.upsert(OPPORTUNITY, external_id, {"amount": Decimal("100")})
    tryton_user.write_opportunity(int(created.remote_id), amount=Decimal("250"))
    with pytest.raises(RemoteConflict) as conflict:
        connector.upsert(
            OPPORTUNITY,
            external_id,
            {"amount": Decimal("300")},
            remote_id=created.remote_id,
            expected_version=created.version,
        )
    current = conflict.value.current
    assert current is not None
    assert current.values["amount"] == Decimal("250")
    assert current.version != created.version
    row = tryton_user.read_opportunity(int(created.remote_id))
    assert row is not None
    assert row["amount"] == Decimal("250")


class _UserWritesAfterTheRead(TrytonConnector):
    """The connector, with a Tryton user saving the record right after the connector read it
    (the real code and the real server; only the timing is arranged)."""

    def __init__(self, credentials: dict[str, str], user: TrytonUser, **values: Any) -> None:
        super().__init__(credentials)
        self.user, self.values = user, values

    def _get(self, obj: str, remote_id: str) -> RemoteRecord | None:
        record = super()._get(obj, remote_id)
        if self.values:
            self.user.write_opportunity(int(remote_id), **self.values)
            self.values = {}
        return record


def test_a_tryton_user_writing_between_our_read_and_our_write_wins(
    tryton_server: TrytonServer, connector: TrytonConnector, tryton_user: TrytonUser
) -> None:
    external_id = new_id()
    created = connector.upsert(OPPORTUNITY, external_id, {"comment": "ours"})
    racing = _UserWritesAfterTheRead(tryton_server.credentials(), tryton_user, comment="theirs")
    with pytest.raises(RemoteConflict) as conflict:
        racing.upsert(
            OPPORTUNITY,
            external_id,
            {"comment": "ours, edited"},
            remote_id=created.remote_id,
            expected_version=created.version,
        )
    racing.close()
    assert conflict.value.current is not None
    assert conflict.value.current.values["comment"] == "theirs"
    row = tryton_user.read_opportunity(int(created.remote_id))
    assert row is not None
    assert row["comment"] == "theirs"


def test_read_changes_pages_through_equal_timestamps_without_skipping(
    connector: TrytonConnector, tryton_user: TrytonUser
) -> None:
    ids = tryton_user.create_opportunities(
        [{"description": f"Batch {n}"} for n in range(25)]
    )  # one transaction: one create_date for all
    first = connector.fetch(OPPORTUNITY, [str(ids[0])])[0]
    assert first.modified_at is not None
    cursor = Cursor(since=first.modified_at - timedelta(microseconds=1))
    seen: list[RemoteRecord] = []
    pages = 0
    while True:
        page = connector.read_changes(OPPORTUNITY, cursor, limit=10)
        pages += 1
        seen.extend(page.records)
        cursor = page.cursor
        if not page.more:
            break
    ours = [r for r in seen if int(r.remote_id) in ids]
    assert sorted(int(r.remote_id) for r in ours) == ids  # each once, none skipped
    assert {r.modified_at for r in ours} == {first.modified_at}
    assert pages >= 3  # the 25 equal timestamps straddled page boundaries
    order = [(r.modified_at, int(r.remote_id)) for r in seen]
    assert order == sorted(order)
    assert connector.read_changes(OPPORTUNITY, cursor, limit=10).records == []


def test_a_record_never_written_is_found_by_its_creation_and_again_once_written(
    connector: TrytonConnector, tryton_user: TrytonUser
) -> None:
    opportunity_id = tryton_user.create_opportunity(description="Typed in Tryton")
    row = tryton_user.read_opportunity(opportunity_id)
    assert row is not None
    assert row["write_date"] is None
    cursor = Cursor(since=row["create_date"] - timedelta(seconds=1))
    page = connector.read_changes(OPPORTUNITY, cursor, limit=1000)
    found = [r for r in page.records if r.remote_id == str(opportunity_id)]
    assert len(found) == 1
    assert found[0].external_id is None
    assert found[0].modified_by == "admin"  # the Tryton user who typed it
    tryton_user.write_opportunity(opportunity_id, description="Edited in Tryton")
    later = connector.read_changes(OPPORTUNITY, page.cursor, limit=1000)
    edited = [r for r in later.records if r.remote_id == str(opportunity_id)]
    assert [r.values["description"] for r in edited] == ["Edited in Tryton"]
    assert edited[0].version != found[0].version


def test_fetch_leaves_out_a_deleted_record(
    connector: TrytonConnector, tryton_user: TrytonUser
) -> None:
    kept, deleted = tryton_user.create_opportunities([{"description": "kept"}, {}])
    tryton_user.delete_opportunity(deleted)
    fetched = connector.fetch(OPPORTUNITY, [str(kept), str(deleted)])
    assert [r.remote_id for r in fetched] == [str(kept)]


def test_fetch_of_a_record_hidden_from_the_integration_user_is_permission_denied(
    connector: TrytonConnector, tryton_user: TrytonUser
) -> None:
    hidden = tryton_user.create_opportunity(description=f"Merger {CONFIDENTIAL_MARK}")
    with pytest.raises(PermissionDenied):
        connector.fetch(OPPORTUNITY, [str(hidden)])


def test_delete_cancels_an_open_opportunity_then_deletes_it(
    connector: TrytonConnector, tryton_user: TrytonUser
) -> None:
    created = connector.upsert(OPPORTUNITY, new_id(), {"description": "Doomed"})
    connector.delete(OPPORTUNITY, created.remote_id)
    assert tryton_user.read_opportunity(int(created.remote_id)) is None
    connector.delete(OPPORTUNITY, created.remote_id)  # already gone: still success
    with pytest.raises(RemoteNotFound):
        connector.upsert(OPPORTUNITY, new_id(), {"comment": "x"}, remote_id=created.remote_id)


def test_parties_carry_the_external_id_and_website(
    connector: TrytonConnector, tryton_user: TrytonUser
) -> None:
    external_id = new_id()
    created = connector.upsert(
        PARTY, external_id, {"name": "Wayne Enterprises", "website": "https://wayne.example"}
    )
    again = connector.upsert(
        PARTY, external_id, {"name": "Wayne Enterprises", "website": "https://www.wayne.example"}
    )
    assert again.remote_id == created.remote_id
    assert not again.created
    party = tryton_user.read_party(int(created.remote_id))
    assert party is not None
    assert party["website"] == "https://www.wayne.example"
    (record,) = connector.fetch(PARTY, [created.remote_id])
    assert record.external_id == external_id


def test_find_candidates_by_external_id_then_domain_then_name(
    connector: TrytonConnector, tryton_user: TrytonUser
) -> None:
    tag = uuid.uuid4().hex[:6]
    party = tryton_user.create_party(f"Globex {tag}", f"https://www.globex-{tag}.example")
    by_domain = tryton_user.create_opportunity(description="Renewal", party=party)
    by_name = tryton_user.create_opportunity(description=f"Hooli{tag} expansion")
    external_id = new_id()
    linked = connector.upsert(OPPORTUNITY, external_id, {"description": "Linked before"})
    probe = MatchProbe(
        external_id=external_id, name=f"Hooli{tag} expansion", domain=f"globex-{tag}.example"
    )
    candidates = [r.remote_id for r in connector.find_candidates(OPPORTUNITY, probe)]
    assert candidates[:3] == [linked.remote_id, str(by_domain), str(by_name)]
    accounts = connector.find_candidates(
        PARTY, MatchProbe(external_id=new_id(), name="unrelated", domain=f"globex-{tag}.example")
    )
    assert [r.remote_id for r in accounts] == [str(party)]


def test_a_wrong_password_is_auth_expired(tryton_server: TrytonServer) -> None:
    # the admin's login, so the integration user's failed-attempt count stays at zero
    wrong = TrytonConnector(tryton_server.credentials(user="admin", password="not-it"))
    with pytest.raises(AuthExpired, match="check the user and password"):
        wrong.check()
    wrong.close()


def test_an_unknown_database_is_auth_expired(tryton_server: TrytonServer) -> None:
    wrong = TrytonConnector(tryton_server.credentials(database="nope"))
    with pytest.raises(AuthExpired, match="no database"):
        wrong.objects()
    wrong.close()


def test_an_expired_session_is_renewed_once(connector: TrytonConnector) -> None:
    connector.check()
    connector.rpc._session = "c29tZW9uZTo0MjpleHBpcmVk"  # what Tryton forgot
    assert connector.fetch(OPPORTUNITY, ["999999"]) == []


def test_a_server_that_is_down_or_hangs_is_a_transient_error(
    tryton_server: TrytonServer,
) -> None:
    proxy = TcpProxy("127.0.0.1", tryton_server.port)
    proxy.start()
    url = f"http://127.0.0.1:{proxy.port}"
    through = TrytonConnector(tryton_server.credentials(url=url), timeout=2)
    try:
        through.check()
        proxy.stop()
        with pytest.raises(TransientError):
            through.fetch(OPPORTUNITY, ["1"])
        proxy.start(answer=False)
        with pytest.raises(TransientError, match="in time"):
            through.fetch(OPPORTUNITY, ["1"])
    finally:
        through.close()
        proxy.stop()
