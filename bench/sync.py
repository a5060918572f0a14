"""The CRM sync benchmark: the initial load against the peer's own rate, and the round trip.

1. Initial load: a company with N visible opportunities (built through `records.service` in
   transactions of `BUILD_BATCH`), a connection with the opportunity mapping, one `runs.run`
   into (a) the Salesforce fake (`tests/fakes/salesforce_api.py`, reached through
   simple-salesforce unchanged) and (b) a real Tryton 8.2 server (`tests/fixtures/tryton_peer.py`):
   records per second, against bare loops sending the same values with the same client into a
   fresh peer of the same kind:
   - Salesforce: `sf.Opportunity.upsert("Coterie_Id__c/<id>", values)` per record, and the
     batch calls the engine makes (an sObject Collections upsert of 200 records by external id,
     then one SOQL query reading them back);
   - Tryton: the raw JSON-RPC `model.sale.opportunity.create` per record, and the batch calls
     the engine makes (a search of the 200 references, one `create` of 200, one `search_read`
     of the new ids), all through the connector's own JSON-RPC client.
   The ratio is the engine's time over the same batch calls' time (target: at most 1.5).
   The Salesforce fake is measured in two setups, each on both sides of its ratio: in this
   process (a transport adapter: the fake's Python shares the engine's interpreter), and
   served over loopback HTTP by a process of its own (`tests/fakes/salesforce_server.py`,
   peer `salesforce-http`), as a remote CRM answers, so the engine's overlap of its own work
   with a call in flight can show.
2. Round trip: E edits in the CRM, each followed at once by a run; the time from the edit to
   the end of the run that applied it (checked in Coterie through the service). A connection
   polls every P seconds, so an edit waits for the next run: P/2 on average, P at worst; the
   table adds that to the measured run. The Salesforce fake's clock is moved P seconds before
   each edit (time passes between polls); Tryton runs on the real clock, so the first edit
   waits until the overlap window (120 s) has passed since the load.

Runs on SQLite (a temporary file) or on the PostgreSQL database given (a new company each run).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, cast

from fastapi.testclient import TestClient
from simple_salesforce.api import Salesforce, SFType
from simple_salesforce.format import format_soql
from sqlalchemy.orm import Session, sessionmaker

from coterie import migrate
from coterie.app import create_app
from coterie.auth.principal import Actor, background_actor
from coterie.config import Settings
from coterie.db import make_engine, make_session_factory, writing_session
from coterie.models import User
from coterie.models.sync import SyncConnection, SyncMapping
from coterie.records import service
from coterie.records.schemas import RecordCreate
from coterie.sync import links, runs
from coterie.sync import secrets as sync_secrets
from coterie.sync.connectors import salesforce
from coterie.sync.connectors.salesforce import API_VERSION, EXTERNAL_ID, SalesforceConnector
from coterie.sync.connectors.tryton import OPPORTUNITY, TrytonConnector
from tests.fakes.salesforce_api import FakeSalesforce
from tests.fakes.salesforce_server import served_fake
from tests.fixtures.tryton_peer import TrytonServer, TrytonUser, start_server

BUILD_BATCH = 500
PEER_BATCH = 200
PASSWORD = "correct horse battery staple"  # noqa: S105 (a benchmark account)
KIND = "opportunity"
OVERLAP_SECONDS = 120  # a connection's default overlap window (SyncConnection.overlap_seconds)
STAGES = ("qualify", "propose")  # keys of the standard pipeline a new company gets

SALESFORCE_FIELDS: list[dict[str, Any]] = [
    {"local": "record.title", "remote": "Name"},
    {"local": "space.amount", "remote": "Amount"},
    {"local": "space.close_date", "remote": "CloseDate", "transform": {"kind": "date"}},
    {
        "local": "space.stage",
        "remote": "StageName",
        "transform": {
            "kind": "map",
            "choices": {"qualify": "Qualification", "propose": "Proposal/Price Quote"},
        },
    },
    {"local": "record.description", "remote": "Description"},
]
TRYTON_FIELDS: list[dict[str, Any]] = [
    {"local": "record.title", "remote": "description"},
    {"local": "space.amount", "remote": "amount"},
    {"local": "space.close_date", "remote": "end_date", "transform": {"kind": "date"}},
    {"local": "record.description", "remote": "comment"},
]


@dataclass(frozen=True)
class Deal:
    """One opportunity of the data set, with the values the engine sends for it."""

    record_id: uuid.UUID
    title: str
    amount: int
    close_date: date
    stage: str
    description: str

    def salesforce(self) -> dict[str, Any]:
        stage = {"qualify": "Qualification", "propose": "Proposal/Price Quote"}[self.stage]
        return {
            "Name": self.title,
            "Amount": self.amount,
            "CloseDate": self.close_date.isoformat(),
            "StageName": stage,
            "Description": self.description,
        }

    def tryton(self) -> dict[str, Any]:
        return {
            "description": self.title,
            "amount": Decimal(self.amount),
            "end_date": self.close_date,
            "comment": self.description,
        }


@dataclass
class PeerResult:
    peer: str
    records: int
    engine_seconds: float
    engine_per_second: float
    created_remote: int
    bare: dict[str, float]  # bare loop -> records per second
    batch_loop: str  # the bare loop sending the engine's own calls
    ratio: float  # engine time / that loop's time (target <= 1.5)
    edits: int
    run_median_ms: float
    run_p95_ms: float
    first_run_ms: float  # the first run after the load, with nothing new
    engine_samples: list[float]  # seconds of each repetition (the table gives the median)
    batch_samples: list[float]
    notes: list[str] = field(default_factory=list)


@dataclass
class SyncResult:
    started_at: str
    database: str
    records: int
    poll_seconds: int
    repeat: int
    peers: list[PeerResult]

    def markdown(self) -> str:
        lines = [
            f"# CRM sync benchmark, {self.started_at}",
            "",
            f"Database: {self.database}; {self.records:,} opportunities in one company. The "
            f"engine and the batch loop ran {self.repeat} times each, alternated (medians); the "
            "per-record loop once.",
            "",
            "| peer | initial load by the engine (one run) | bare loop | bare rate "
            "| engine / same calls |",
            "|---|---|---|---|---|",
        ]
        for peer in self.peers:
            first = True
            for label, rate in peer.bare.items():
                engine = (
                    f"{peer.engine_per_second:,.0f}/s ({peer.engine_seconds:.1f} s)"
                    if first
                    else ""
                )
                ratio = f"**{peer.ratio:.2f}x**" if label == peer.batch_loop else ""
                lines.append(
                    f"| {peer.peer if first else ''} | {engine} | {label} | {rate:,.0f}/s "
                    f"| {ratio} |"
                )
                first = False
        lines += [
            "",
            f"Round trip, an edit in the CRM until visible in Coterie ({self.peers[0].edits} "
            f"edits per peer; runs every {self.poll_seconds} s):",
            "",
            "| peer | run that applies it: median / p95 | with the poll wait: median "
            "(+P/2) / worst (+P) | first run after the load (nothing new) |",
            "|---|---|---|---|",
        ]
        half = self.poll_seconds * 1000 / 2
        for peer in self.peers:
            lines.append(
                f"| {peer.peer} | {peer.run_median_ms:,.0f} / {peer.run_p95_ms:,.0f} ms | "
                f"{(peer.run_median_ms + half) / 1000:,.1f} s / "
                f"{(peer.run_p95_ms + 2 * half) / 1000:,.1f} s | "
                f"{peer.first_run_ms / 1000:,.1f} s |"
            )
        notes = [note for peer in self.peers for note in peer.notes]
        if notes:
            lines += ["", *[f"- {note}" for note in notes]]
        return "\n".join(lines)


# --- Coterie's side ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Coterie:
    settings: Settings
    factory: sessionmaker[Session]
    company_id: uuid.UUID
    user_id: uuid.UUID
    deals: list[Deal]


def _actor(session: Session, user_id: uuid.UUID) -> Actor:
    user = session.get(User, user_id)
    assert user is not None  # noqa: S101 (created above)
    return background_actor(session, user, "bench")


def _deals(n: int) -> list[tuple[str, int, date, str, str]]:
    words = ("Renewal", "Expansion", "Migration", "Pilot", "Platform", "Upgrade", "Rollout")
    return [
        (
            f"Deal {i:05d} {words[i % len(words)]} {words[(i // 7) % len(words)]}",
            1000 + (i * 37) % 250_000,
            date(2030, 1, 1) + timedelta(days=i % 365),
            STAGES[i % 2],
            f"Co-sell opportunity number {i}",
        )
        for i in range(n)
    ]


def build_coterie(settings: Settings, records: int) -> Coterie:
    """A company and its admin (signed up through the API), and its opportunities created
    through the records service in transactions of BUILD_BATCH."""
    app = create_app(settings)
    with TestClient(app) as client:
        tag = secrets.token_hex(4)
        response = client.post(
            "/api/v1/signup",
            json={
                "company": {"name": f"Bench Sync {tag}", "domain": f"sync-{tag}.example"},
                "user": {
                    "name": "Bench",
                    "email": f"admin@sync-{tag}.example",
                    "password": PASSWORD,
                },
            },
        )
        response.raise_for_status()
        body = response.json()
    app.state.engine.dispose()
    company_id, user_id = uuid.UUID(body["company_id"]), uuid.UUID(body["user_id"])
    factory = make_session_factory(make_engine(settings.resolved_database_url))
    deals: list[Deal] = []
    plan = _deals(records)
    for start in range(0, records, BUILD_BATCH):
        with writing_session(factory) as session:
            actor = _actor(session, user_id)
            for title, amount, close, stage, description in plan[start : start + BUILD_BATCH]:
                data = RecordCreate(
                    title=title,
                    description=description,
                    fields={"amount": amount, "close_date": close.isoformat(), "stage": stage},
                )
                record = service.create(session, actor, KIND, data)
                deals.append(Deal(record.id, title, amount, close, stage, description))
            session.commit()
    return Coterie(settings, factory, company_id, user_id, deals)


def connect(
    coterie: Coterie, kind: str, credentials: dict[str, str], remote: str, fields: list[Any]
) -> uuid.UUID:
    """A connection of the company with the opportunity mapping, as the connect form leaves it."""
    with writing_session(coterie.factory) as session:
        connection = SyncConnection(
            company_id=coterie.company_id,
            kind=kind,
            name=f"{kind} bench",
            credentials=sync_secrets.seal(coterie.settings, credentials),
            webhook_secret=sync_secrets.seal(coterie.settings, {"secret": "whsec-bench"}),
            run_as_user_id=coterie.user_id,
            created_by_user_id=coterie.user_id,
        )
        session.add(connection)
        session.flush()
        session.add(
            SyncMapping(connection_id=connection.id, kind=KIND, remote_object=remote, fields=fields)
        )
        session.commit()
        return connection.id


def _run(coterie: Coterie, connection_id: uuid.UUID) -> runs.Summary:
    summary = runs.run(coterie.factory, coterie.settings, connection_id)
    if summary is None:
        raise RuntimeError("the connection did not run")
    if summary.error:
        raise RuntimeError(f"the run failed: {summary.error}")
    return summary


def _initial_load(coterie: Coterie, connection_id: uuid.UUID) -> tuple[float, runs.Summary]:
    started = time.perf_counter()
    summary = _run(coterie, connection_id)
    seconds = time.perf_counter() - started
    if summary.created_remote != len(coterie.deals):
        raise RuntimeError(
            f"the run created {summary.created_remote} of {len(coterie.deals)} records"
        )
    return seconds, summary


def _amount_in_coterie(coterie: Coterie, record_id: uuid.UUID) -> Any:
    with writing_session(coterie.factory) as session:
        record = service.read(session, _actor(session, coterie.user_id), KIND, record_id)
        session.rollback()
    mine = next(s for s in record.spaces if s.is_mine)
    amount = mine.fields.get("amount")
    return amount.get("value") if isinstance(amount, dict) else amount


def _remote_ids(coterie: Coterie, connection_id: uuid.UUID) -> dict[uuid.UUID, str]:
    with writing_session(coterie.factory) as session:
        found = {
            deal.record_id: link.remote_id
            for deal in coterie.deals[:: max(1, len(coterie.deals) // 200)]
            if (link := links.by_record(session, connection_id, deal.record_id)) is not None
            and link.remote_id is not None
        }
        session.rollback()
    return found


def _round_trips(
    coterie: Coterie,
    connection_id: uuid.UUID,
    edits: int,
    edit: Callable[[str, int], None],
    before_edit: Callable[[], None],
    first_amount: int,
) -> tuple[float, list[float]]:
    """The first run after the load (it reads the load back once: the overlap window), then
    E times: edit an amount in the CRM, run at once, check Coterie has it. Milliseconds."""
    targets = list(_remote_ids(coterie, connection_id).items())
    if not targets:
        raise RuntimeError("no linked records to edit")
    before_edit()
    started = time.perf_counter()
    _run(coterie, connection_id)
    first_run_ms = (time.perf_counter() - started) * 1000
    edit(targets[-1][1], first_amount - 1)  # the cursor moves past the load; not measured
    _run(coterie, connection_id)
    elapsed: list[float] = []
    for n in range(edits):
        record_id, remote_id = targets[n % len(targets)]
        amount = first_amount + n  # a value the record never had (each peer has its own)
        before_edit()
        started = time.perf_counter()
        edit(remote_id, amount)
        summary = _run(coterie, connection_id)
        elapsed.append((time.perf_counter() - started) * 1000)
        if summary.pulled < 1 or Decimal(str(_amount_in_coterie(coterie, record_id))) != amount:
            raise RuntimeError(f"the edit of {remote_id} did not reach Coterie")
    return first_run_ms, elapsed


def _p95(values: Sequence[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def _timed(action: Callable[[], None], records: int) -> float:
    started = time.perf_counter()
    action()
    return records / (time.perf_counter() - started)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- Salesforce -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Org:
    """A fresh Salesforce fake as the benchmark drives it, in process or served."""

    instance_url: str
    access_token: str
    session: Callable[[], Any]
    records: Callable[[str], list[dict[str, Any]]]
    ui_edit: Callable[..., None]
    advance: Callable[[float], Any]


@contextmanager
def _fake_org(served: bool) -> Iterator[_Org]:
    """A fresh fake: in this process (a transport adapter), or `served` over loopback HTTP by a
    process of its own (`tests/fakes/salesforce_server.py`), the way a remote CRM answers."""
    previous = salesforce.session_factory
    with contextlib.ExitStack() as stack:
        if served:
            remote = stack.enter_context(served_fake())
            org = _Org(
                remote.instance_url,
                remote.access_token,
                remote.session,
                remote.records,
                remote.ui_edit,
                remote.advance,
            )
        else:
            fake = FakeSalesforce(api_limit=10**9)
            stack.callback(fake.close)
            org = _Org(
                fake.instance_url,
                fake.access_token,
                fake.session,
                fake.records,
                fake.org.ui_edit,
                fake.clock.advance,
            )
        salesforce.session_factory = org.session
        try:
            yield org
        finally:
            salesforce.session_factory = previous


def _client(org: _Org) -> Salesforce:
    return Salesforce(
        instance_url=org.instance_url,
        session_id=org.access_token,
        session=org.session(),
        version=API_VERSION,
    )


def _salesforce_bare(deals: Sequence[Deal], per_record: bool, served: bool) -> dict[str, float]:
    rates: dict[str, float] = {}
    with _fake_org(served) as org:
        sf = _client(org)

        opportunity = cast(SFType, sf.Opportunity)

        def one_by_one() -> None:
            for deal in deals:
                opportunity.upsert(f"{EXTERNAL_ID}/{deal.record_id}", deal.salesforce())

        if per_record:
            rates["`sf.Opportunity.upsert` per record"] = _timed(one_by_one, len(deals))
    with _fake_org(served) as org:
        sf = _client(org)
        path = f"composite/sobjects/Opportunity/{EXTERNAL_ID}"
        # the fields the connector reads back (all of the object's, as `fetch` does)
        reader = SalesforceConnector(
            {"instance_url": org.instance_url, "access_token": org.access_token},
            session=org.session(),
        )
        select = ", ".join(reader._select("Opportunity"))
        reader.close()

        def batches() -> None:
            for chunk in _chunks(deals, PEER_BATCH):
                records = [
                    {
                        "attributes": {"type": "Opportunity"},
                        **d.salesforce(),
                        EXTERNAL_ID: str(d.record_id),
                    }
                    for d in chunk
                ]
                answers = sf.restful(
                    path, method="PATCH", data=json.dumps({"allOrNone": False, "records": records})
                )
                ids = [a["id"] for a in answers or []]
                soql = format_soql("SELECT {:literal} FROM Opportunity WHERE Id IN {}", select, ids)
                sf.query_all(soql)

        rates["the engine's calls: Collections upsert of 200 + a query reading them back"] = _timed(
            batches, len(deals)
        )
    return rates


def bench_salesforce(
    coterie: Coterie, edits: int, poll_seconds: int, repeat: int, served: bool = False
) -> PeerResult:
    engine: list[float] = []
    bare: list[dict[str, float]] = []
    for attempt in range(repeat):  # alternated: the machine's load drifts
        bare.append(_salesforce_bare(coterie.deals, per_record=attempt == 0, served=served))
        with _fake_org(served) as org:
            credentials = {"instance_url": org.instance_url, "access_token": org.access_token}
            connection_id = connect(
                coterie, "salesforce", credentials, "Opportunity", SALESFORCE_FIELDS
            )
            seconds, summary = _initial_load(coterie, connection_id)
            engine.append(seconds)
            stored = org.records("Opportunity")
            external = {str(r[EXTERNAL_ID]) for r in stored}
            if len(stored) != len(coterie.deals) or len(external) != len(stored):
                raise RuntimeError(f"Salesforce holds {len(stored)} opportunities, not one each")
            if attempt < repeat - 1:
                continue

            def edit(remote_id: str, amount: int, org: _Org = org) -> None:
                org.ui_edit("Opportunity", remote_id, Amount=amount)

            def time_passes(org: _Org = org) -> None:
                org.advance(poll_seconds)

            first_run, trips = _round_trips(
                coterie,
                connection_id,
                edits,
                edit,
                time_passes,
                first_amount=600_000 if served else 500_000,
            )
    peer = (
        "Salesforce (fake served over loopback HTTP, simple-salesforce)"
        if served
        else "Salesforce (fake in process, simple-salesforce)"
    )
    notes = (
        [
            "Served over loopback HTTP: the fake runs in a process of its own, as a remote CRM "
            "does, for the engine and the bare loops alike (the same client, the same calls)."
        ]
        if served
        else []
    )
    return _result(peer, coterie, engine, bare, summary, trips, first_run, notes)


def _result(
    peer: str,
    coterie: Coterie,
    engine: list[float],
    bare: list[dict[str, float]],
    summary: runs.Summary,
    trips: list[float],
    first_run: float,
    notes: list[str] | None = None,
) -> PeerResult:
    """Medians over the repetitions; the per-record loop ran once (the first)."""
    records = len(coterie.deals)
    batch_loop = next(label for label in bare[0] if label.startswith("the engine's calls"))
    batch = [records / sample[batch_loop] for sample in bare]
    rates = {
        label: records / statistics.median(batch) if label == batch_loop else rate
        for label, rate in bare[0].items()
    }
    seconds = statistics.median(engine)
    return PeerResult(
        peer=peer,
        records=records,
        engine_seconds=seconds,
        engine_per_second=records / seconds,
        created_remote=summary.created_remote,
        bare=rates,
        batch_loop=batch_loop,
        ratio=seconds / statistics.median(batch),
        edits=len(trips),
        run_median_ms=statistics.median(trips),
        run_p95_ms=_p95(trips),
        first_run_ms=first_run,
        engine_samples=engine,
        batch_samples=batch,
        notes=notes or [],
    )


# --- Tryton -----------------------------------------------------------------------------------


@contextmanager
def _tryton(workdir: Path) -> Iterator[TrytonServer]:
    server = start_server(workdir)
    try:
        yield server
    finally:
        server.stop()


def _tryton_bare(deals: Sequence[Deal], workdir: Path, per_record: bool) -> dict[str, float]:
    rates: dict[str, float] = {}
    with _tryton(workdir / "bare-create") as server:
        connector = TrytonConnector(server.credentials())
        payloads = [
            {**connector._to_tryton(OPPORTUNITY, d.tryton()), "reference": str(d.record_id)}
            for d in deals
        ]

        def one_by_one() -> None:
            for payload in payloads:
                connector.rpc.call(OPPORTUNITY, "create", [payload])

        if per_record:
            rates["JSON-RPC `model.sale.opportunity.create` per record"] = _timed(
                one_by_one, len(deals)
            )
        connector.close()
    with _tryton(workdir / "bare-batch") as server:
        connector = TrytonConnector(server.credentials())
        fields = connector._read_fields(OPPORTUNITY)

        def batches() -> None:
            for chunk in _chunks(payloads, PEER_BATCH):
                references = [p["reference"] for p in chunk]
                connector.rpc.call(
                    OPPORTUNITY, "search", [("reference", "in", references)], 0, None, None
                )
                created = connector.rpc.call(OPPORTUNITY, "create", list(chunk))
                connector.rpc.call(
                    OPPORTUNITY, "search_read", [("id", "in", created)], 0, None, None, fields
                )

        rates["the engine's calls: search 200 references + create 200 + read them back"] = _timed(
            batches, len(deals)
        )
        connector.close()
    return rates


def _tryton_edit(user: TrytonUser, remote_id: str, amount: int) -> None:
    user.write_opportunity(int(remote_id), amount=Decimal(amount))


def _sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


def bench_tryton(
    coterie: Coterie, edits: int, poll_seconds: int, workdir: Path, repeat: int
) -> PeerResult:
    engine: list[float] = []
    bare: list[dict[str, float]] = []
    for attempt in range(repeat):  # alternated: the machine's load drifts
        bare.append(_tryton_bare(coterie.deals, workdir / f"bare-{attempt}", attempt == 0))
        with _tryton(workdir / f"engine-{attempt}") as server:
            connection_id = connect(
                coterie, "tryton", server.credentials(), OPPORTUNITY, TRYTON_FIELDS
            )
            seconds, summary = _initial_load(coterie, connection_id)
            engine.append(seconds)
            loaded_at = time.monotonic()
            user = TrytonUser(server)
            stored = user.search_opportunities([])
            if len(stored) != len(coterie.deals) or len({r["reference"] for r in stored}) != len(
                stored
            ):
                raise RuntimeError(f"Tryton holds {len(stored)} opportunities, not one per deal")
            if attempt < repeat - 1:
                user.close()
                continue

            # Tryton runs on the real clock: an edit made within the overlap window of the load
            # makes each run re-read the load; with a poll of P >= the window it never is
            first_run, trips = _round_trips(
                coterie,
                connection_id,
                edits,
                partial(_tryton_edit, user),
                partial(_sleep_until, loaded_at + OVERLAP_SECONDS),
                first_amount=700_000,
            )
            user.close()
    return _result(
        "Tryton 8.2 (JSON-RPC, SQLite backend)",
        coterie,
        engine,
        bare,
        summary,
        trips,
        first_run,
        notes=[
            "Tryton keeps no tombstones: every run also asks for all linked ids (100 per "
            "call) to notice deletes, so a Tryton run grows with the number of linked records."
        ],
    )


# --- the command ------------------------------------------------------------------------------


def run(
    database_url: str | None,
    records: int,
    edits: int,
    poll_seconds: int,
    peers: Sequence[str],
    results_dir: Path,
    repeat: int = 3,
) -> SyncResult:
    with tempfile.TemporaryDirectory(prefix="coterie-bench-sync-") as tmp:
        data_dir = Path(tmp)
        url = database_url or f"sqlite:///{data_dir / 'sync.sqlite3'}"
        migrate.upgrade(url)
        settings = Settings(
            env="production",
            database_url=url,
            data_dir=data_dir,
            secret_key="bench-" + secrets.token_hex(16),
        )
        coterie = build_coterie(settings, records)
        measured: list[PeerResult] = []
        if "salesforce" in peers:
            measured.append(bench_salesforce(coterie, edits, poll_seconds, repeat))
        if "salesforce-http" in peers:
            measured.append(bench_salesforce(coterie, edits, poll_seconds, repeat, served=True))
        if "tryton" in peers:
            measured.append(bench_tryton(coterie, edits, poll_seconds, data_dir / "tryton", repeat))
        result = SyncResult(
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            database=make_engine(url).url.render_as_string(hide_password=True).split("@")[-1],
            records=records,
            poll_seconds=poll_seconds,
            repeat=repeat,
            peers=measured,
        )
    results_dir.mkdir(parents=True, exist_ok=True)
    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    stem = results_dir / f"sync-{result.started_at[:10]}-{dialect}"
    stem.with_suffix(".json").write_text(json.dumps(asdict(result), indent=2) + "\n")
    stem.with_suffix(".md").write_text(result.markdown() + "\n")
    return result
