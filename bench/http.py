"""End-to-end HTTP figures: latency p50/p95/p99 and throughput of the list, record and report
routes of the real app, with 1, 8 and 32 concurrent clients, each against the framework floor
(`bench.floor`: the same raw SQL in a bare Starlette app) measured in the same run.

Both servers run under uvicorn in child processes on loopback (the same worker count, access
log off); the app connects as a role row-level security applies to (`http_servers`). The client
is `http_client.closed_loop` in this process. Each cell (route, clients, server) runs for a
fixed duration after a warm-up; app and floor cells alternate, and which goes first alternates
too, so a busy machine slows both alike.

Routes (as the large viewer's member unless said otherwise):
- list: `GET /api/v1/opportunities` (first page of 50, masked), large and small viewer;
  floor: `SELECT ... FROM records ORDER BY id LIMIT 50` and the page's spaces, unmasked;
- record: `GET /api/v1/opportunities/{id}` of records partners own (the viewer sees masked
  spaces), cycling over up to 200 of them; floor: primary-key read with participants and spaces;
- report: `POST /api/v1/reports/run` grouped by region, count + sum of `mine.amount`; floor:
  the hand-written `GROUP BY` over the viewer's own spaces.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from bench import http_servers
from bench.database import progress_bar
from bench.dataset import KIND, Landmarks
from bench.http_client import Call, Latency, closed_loop, run_async
from bench.scales import Scale
from coterie.authz.guard import UNSAFE
from coterie.db import make_engine, make_session_factory
from coterie.models import Participant, Record
from coterie.records.kinds import ParticipantStatus

CONCURRENCY = (1, 8, 32)
PAGE = 50
RECORD_SAMPLE = 200
P95_TARGET = 0.050
RATIO_TARGET = 0.5
# seconds per cell and of its warm-up, by scale (smoke only proves the figures are produced)
CELL_SECONDS: dict[str, tuple[float, float]] = {
    "smoke": (1.0, 0.3),
    "medium": (4.0, 1.0),
    "large": (6.0, 1.5),
}
REPORT_BODY: dict[str, Any] = {
    "kind": KIND,
    "group_by": ["region"],
    "measures": [{"op": "count"}, {"op": "sum", "field": "mine.amount"}],
}


@dataclass
class HttpFigure:
    """One route at one concurrency: the app against the floor."""

    key: str
    route: str  # list | record | report
    viewer: str  # large | small
    label: str
    floor_label: str
    concurrency: int
    app: Latency
    floor: Latency
    target: str
    passed: bool | None = None

    @property
    def throughput_ratio(self) -> float:
        return self.app.throughput / self.floor.throughput if self.floor.throughput else 0.0

    @property
    def p95_ratio(self) -> float:
        return self.app.p95 / self.floor.p95 if self.floor.p95 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "route": self.route,
            "viewer": self.viewer,
            "label": self.label,
            "floor_label": self.floor_label,
            "concurrency": self.concurrency,
            "app": self.app.to_json(),
            "floor": self.floor.to_json(),
            "throughput_ratio": round(self.throughput_ratio, 3),
            "p95_ratio": round(self.p95_ratio, 3),
            "target": self.target,
            "target_met": self.passed,
        }


@dataclass
class HttpResult:
    figures: list[HttpFigure]
    workers: int
    cell_seconds: float
    warmup_seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(f.app.errors + f.floor.errors for f in self.figures)

    def to_json(self) -> dict[str, Any]:
        return {
            "workers": self.workers,
            "cell_seconds": self.cell_seconds,
            "warmup_seconds": self.warmup_seconds,
            "errors": self.errors,
            "figures": [f.to_json() for f in self.figures],
            "notes": self.notes,
        }

    def markdown(self) -> str:
        header = (
            "| Route | Clients | App p50 / p95 / p99 (ms) | App req/s | Floor p50 / p95 / p99 (ms) "
            "| Floor req/s | Throughput vs floor | p95 vs floor | CPU ms/req app (server + db) "
            "| CPU ms/req floor (server + db) | Errors | Target | Met |"
        )
        lines = [header, "|" + "---|" * 13]
        for f in self.figures:
            lines.append(
                f"| {f.label} | {f.concurrency} | {_triple(f.app)} | {f.app.throughput:,.0f} "
                f"| {_triple(f.floor)} | {f.floor.throughput:,.0f} | {f.throughput_ratio:.2f}x "
                f"| {f.p95_ratio:.1f}x | {_cpu(f.app)} | {_cpu(f.floor)} "
                f"| {f.app.errors + f.floor.errors} | {f.target} "
                f"| {_met(f.passed)} |"
            )
        lines.append("")
        lines.extend(f"- {note}" for note in self.notes)
        return "\n".join(lines) + "\n"


def _triple(latency: Latency) -> str:
    return f"{latency.p50 * 1000:.1f} / {latency.p95 * 1000:.1f} / {latency.p99 * 1000:.1f}"


def _cpu(latency: Latency) -> str:
    server = latency.server_cpu_per_request * 1000
    database = latency.database_cpu_per_request * 1000
    return f"{server:.1f} + {database:.1f}"


def _met(passed: bool | None) -> str:
    return "n/a" if passed is None else ("yes" if passed else "NO")


def table(result: HttpResult) -> Table:
    """The HTTP figures as a Rich table."""
    out = Table(title=f"End-to-end HTTP vs the framework floor ({result.workers} worker(s) each)")
    for name, justify in (
        ("Route", "left"),
        ("Clients", "right"),
        ("App p50/p95/p99 ms", "right"),
        ("App req/s", "right"),
        ("Floor p50/p95/p99 ms", "right"),
        ("Floor req/s", "right"),
        ("Thru. vs floor", "right"),
        ("p95 vs floor", "right"),
        ("CPU ms/req app", "right"),
        ("CPU ms/req floor", "right"),
        ("Errors", "right"),
        ("Target", "left"),
        ("Met", "center"),
    ):
        out.add_column(name, justify=justify)  # type: ignore[arg-type]
    for f in result.figures:
        met = _met(f.passed)
        out.add_row(
            f.label,
            str(f.concurrency),
            _triple(f.app),
            f"{f.app.throughput:,.0f}",
            _triple(f.floor),
            f"{f.floor.throughput:,.0f}",
            f"{f.throughput_ratio:.2f}x",
            f"{f.p95_ratio:.1f}x",
            _cpu(f.app),
            _cpu(f.floor),
            str(f.app.errors + f.floor.errors),
            f.target,
            f"[green]{met}[/green]" if f.passed else f"[red]{met}[/red]",
        )
    return out


# --- the measurement ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Subject:
    route: str
    viewer: str
    label: str
    floor_label: str
    app: Callable[[int, int], Call]
    floor: Callable[[int, int], Call]


def active_opportunities(
    url: str, company_id: uuid.UUID, *, partner_owned: bool = False, limit: int | None = None
) -> list[uuid.UUID]:
    """Opportunities `company_id` actively participates in (it has a space on each), in id
    order; with `partner_owned`, only those another company owns (it sees their owner's space
    masked)."""
    statement = (
        select(Record.id)
        .join(Participant, Participant.record_id == Record.id)
        .where(
            Participant.company_id == company_id,
            Participant.status == ParticipantStatus.ACTIVE.value,
            Record.kind == KIND,
        )
        .order_by(Record.id)
        .limit(limit)
        .execution_options(**UNSAFE)
    )
    if partner_owned:
        statement = statement.where(Record.owner_company_id != company_id)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return list(session.scalars(statement))
    finally:
        engine.dispose()


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _subjects(
    landmarks: Landmarks, tokens: dict[uuid.UUID, str], records: list[uuid.UUID]
) -> list[_Subject]:
    large = _bearer(tokens[landmarks.large_member])
    small = _bearer(tokens[landmarks.small_member])
    page = f"/api/v1/opportunities?limit={PAGE}"
    floor_list = "records page + spaces, unmasked"

    def fixed(call: Call) -> Callable[[int, int], Call]:
        return lambda _client, _i: call

    def record_app(client: int, i: int) -> Call:
        record_id = records[(client * 37 + i) % len(records)]
        return Call("GET", f"/api/v1/opportunities/{record_id}", large)

    def record_floor(client: int, i: int) -> Call:
        return Call("GET", f"/record/{records[(client * 37 + i) % len(records)]}")

    return [
        _Subject(
            "list",
            "large",
            f"List first page of {PAGE} (large viewer, {landmarks.large_visible:,} visible)",
            floor_list,
            fixed(Call("GET", page, large)),
            fixed(Call("GET", "/list")),
        ),
        _Subject(
            "list",
            "small",
            f"List first page of {PAGE} (small viewer, {landmarks.small_visible:,} visible)",
            floor_list,
            fixed(Call("GET", page, small)),
            fixed(Call("GET", "/list")),
        ),
        _Subject(
            "record",
            "large",
            "Record, masked (large viewer)",
            "primary-key read + participants + spaces",
            record_app,
            record_floor,
        ),
        _Subject(
            "report",
            "large",
            f"Report by region, count + sum ({landmarks.large_visible:,} visible)",
            "hand-written GROUP BY over own spaces",
            fixed(Call("POST", "/api/v1/reports/run", large, REPORT_BODY)),
            fixed(Call("GET", f"/report?company={landmarks.large_company}")),
        ),
    ]


def _check_answers(app_base: str, floor_base: str, subjects: list[_Subject]) -> None:
    """One call of each subject on each server: it must answer as expected before timing."""
    for subject in subjects:
        for base, make in ((app_base, subject.app), (floor_base, subject.floor)):
            call = make(0, 0)
            answer = httpx.request(
                call.method, base + call.path, headers=call.headers, json=call.json, timeout=120
            )
            if answer.status_code != call.expect:
                raise http_servers.BenchServerError(
                    f"{call.method} {call.path} answered {answer.status_code}, not "
                    f"{call.expect}: {answer.text[:300]}"
                )
            if subject.route == "list" and base == app_base:
                items = answer.json()["items"]
                if len(items) != PAGE:
                    raise http_servers.BenchServerError(
                        f"the {subject.viewer} viewer's list page has {len(items)} items, not "
                        f"{PAGE}: is row-level security letting the app role read?"
                    )


def _target(route: str, concurrency: int) -> str:
    if route in ("list", "record") and concurrency == 8:
        return f"p95 < {P95_TARGET * 1000:.0f} ms, >= {RATIO_TARGET}x floor req/s"
    return f">= {RATIO_TARGET}x floor req/s"


def _passed(route: str, concurrency: int, app: Latency, floor: Latency) -> bool:
    ratio = app.throughput / floor.throughput if floor.throughput else 0.0
    ok = ratio >= RATIO_TARGET and app.errors == 0 and floor.errors == 0
    if route in ("list", "record") and concurrency == 8:
        ok = ok and app.p95 < P95_TARGET
    return ok


def _cell(
    subject: _Subject,
    clients: int,
    app: http_servers.Server,
    floor: http_servers.Server,
    n: int,
    seconds: float,
    warmup: float,
) -> HttpFigure:
    """One route at one concurrency on the app and on the floor (which goes first alternates)."""
    arms = [("app", app, subject.app), ("floor", floor, subject.floor)]
    measured: dict[str, Latency] = {}
    for name, server, calls in arms if n % 2 == 0 else arms[::-1]:
        measured[name] = run_async(
            closed_loop(
                server.base_url,
                calls,
                concurrency=clients,
                seconds=seconds,
                warmup=warmup,
                server=server.workers(),
                database=server.backends,
            )
        )
    return HttpFigure(
        key=f"http.{subject.route}.{subject.viewer}.c{clients}",
        route=subject.route,
        viewer=subject.viewer,
        label=subject.label,
        floor_label=subject.floor_label,
        concurrency=clients,
        app=measured["app"],
        floor=measured["floor"],
        target=_target(subject.route, clients),
        passed=_passed(subject.route, clients, measured["app"], measured["floor"]),
    )


def measure(
    url: str,
    landmarks: Landmarks,
    scale: Scale,
    console: Console,
    *,
    workers: int = 1,
    seconds: float | None = None,
    warmup: float | None = None,
    concurrency: tuple[int, ...] = CONCURRENCY,
) -> HttpResult:
    """Serve the app and the floor on the bench database at `url` (PostgreSQL) and measure every
    route at every concurrency; bench tokens are issued first and deleted at the end."""
    http_servers.require_postgresql(url)
    cell, warm = CELL_SECONDS.get(scale.name, CELL_SECONDS["medium"])
    cell = seconds if seconds is not None else cell
    warm = warmup if warmup is not None else warm
    app_url = http_servers.app_role_url(url)
    records = active_opportunities(
        url, landmarks.large_company, partner_owned=True, limit=RECORD_SAMPLE
    )
    if not records:
        raise http_servers.BenchServerError("the large viewer sees no record a partner owns")
    http_servers.remove_tokens(url)  # left over by a killed run
    tokens = http_servers.issue_tokens(url, [landmarks.large_member, landmarks.small_member])
    figures: list[HttpFigure] = []
    try:
        with ExitStack() as stack:
            console.print(f"Starting the app and the floor under uvicorn ({workers} worker(s))...")
            app = stack.enter_context(http_servers.serve("app", url, app_url, workers=workers))
            floor = stack.enter_context(http_servers.serve("floor", url, app_url, workers=workers))
            subjects = _subjects(landmarks, tokens, records)
            _check_answers(app.base_url, floor.base_url, subjects)
            cells = [(s, c) for s in subjects for c in concurrency]
            with progress_bar(console) as progress:
                task = progress.add_task("HTTP", total=len(cells))
                for n, (subject, clients) in enumerate(cells):
                    progress.update(
                        task, description=f"HTTP: {subject.route} {subject.viewer}, {clients}"
                    )
                    figures.append(_cell(subject, clients, app, floor, n, cell, warm))
                    progress.advance(task)
                progress.update(task, description="HTTP")
    finally:
        http_servers.remove_tokens(url)
    notes = [
        f"uvicorn, {workers} worker(s) per server, access log off; the app connects as "
        f"{http_servers.APP_ROLE} (row-level security applies), the floor as the tables' owner.",
        f"Each cell: {warm:g} s warm-up, then {cell:g} s of closed-loop clients (httpx, "
        "keep-alive) in the benchmark process, on the same machine: the client shares the CPU.",
        "Latency: request sent to body read, client clock; throughput: answers per second.",
        "CPU ms/req: CPU time of the server's worker process(es) + its PostgreSQL backends "
        "per answer while timed; it depends far less on a busy machine than latency does.",
    ]
    return HttpResult(figures, workers, cell, warm, notes)
