"""The load test: 32 virtual users running a realistic mix against several app workers, on a
throwaway copy of the bench database, with the workers' memory sampled every second.

- Database: `CREATE DATABASE <bench>_load TEMPLATE <bench> STRATEGY FILE_COPY` (seconds, even
  at the large scale), dropped at the end: the load's writes (edits, moves, comments,
  notifications, audit) never reach the reused data set, so later runs and its verify step see
  it unchanged. The template must have no open connection while it is copied.
- Server: `uvicorn coterie.app:create_app --workers N` (default 2, one per core of the reference
  machine), connected as the app role (row-level security applies), access log off.
- Users: 32 closed-loop virtual users in this process (httpx, keep-alive), three of four acting
  for the large viewer company and one of four for the small viewer, alternately as a member
  and an admin, each with a personal token. At setup an admin of each viewer company defines
  a company workflow through the API (its moves drive the company's own `stage`).
- Mix (per action, weights): browse list pages with paging (1 to 3 pages, 35), open a record
  (25), edit my space: open it, then `PATCH spaces/mine` with `If-Match` of my space's version
  (15), move a card: read the record's workflow state, then move it to another stage with
  `If-Match` of the state's version (10), comment on a record (10), run the grouped report
  (5). Edits and moves go to records of a slice each user has alone within its company, so no
  two users race for a version: any 412 is an error.
- Errors: any status other than the one a request expects (200, or 201 for moves and comments),
  and connection failures (status 0), listed by status.
- Memory: RSS of each worker when the load starts and when it ends, and the peak RSS of each
  worker sampled every second (psutil) in between.
- CPU: the workers' and the app's PostgreSQL backends' CPU time over the run per request (less
  sensitive to a busy machine than latency), and the client's.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import psutil
import psycopg
from psycopg import sql
from rich.console import Console
from rich.table import Table
from sqlalchemy import make_url

from bench import http_servers
from bench.database import BENCH_PREFIX, display_url
from bench.dataset import KIND, Landmarks
from bench.http import REPORT_BODY, active_opportunities
from bench.http_client import Latency, cpu_seconds, cpu_used, make_client, run_async
from bench.scales import Scale

USERS = 32
WORKERS = 2
RAMP_UP = 3.2  # seconds over which the users arrive, evenly
PAGE = 50
SLICE = 50  # records a user edits and moves (its own within its company)
DURATION: dict[str, float] = {"smoke": 10.0, "medium": 60.0, "large": 300.0}
ACTIONS: dict[str, int] = {
    "browse": 35,
    "open": 25,
    "edit": 15,
    "move": 10,
    "comment": 10,
    "report": 5,
}
TYPES = ("list", "record", "edit", "workflow state", "move", "comment", "report")
STAGES = [
    {"key": "bench_qualify", "name": "Qualify"},
    {"key": "bench_develop", "name": "Develop"},
    {"key": "bench_propose", "name": "Propose"},
    {"key": "bench_commit", "name": "Commit"},
]
MB = 1024 * 1024


@dataclass(frozen=True)
class WorkerMemory:
    pid: int
    start_rss: int  # bytes
    end_rss: int
    peak_rss: int
    cpu_seconds: float = 0.0  # CPU the worker used during the load (shows how it was shared)

    def to_json(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "start_rss_mb": round(self.start_rss / MB, 1),
            "end_rss_mb": round(self.end_rss / MB, 1),
            "peak_rss_mb": round(self.peak_rss / MB, 1),
            "cpu_seconds": round(self.cpu_seconds, 1),
        }


@dataclass
class LoadResult:
    users: int
    workers: int
    duration: float  # asked for
    elapsed: float  # measured
    think: float
    per_type: dict[str, Latency]
    overall: Latency
    errors_by_status: dict[str, int]
    error_samples: list[str]
    memory: list[WorkerMemory]
    database: str
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(self.errors_by_status.values())

    @property
    def peak_rss(self) -> int:
        return max((m.peak_rss for m in self.memory), default=0)

    def to_json(self) -> dict[str, Any]:
        return {
            "users": self.users,
            "workers": self.workers,
            "duration_s": self.duration,
            "elapsed_s": round(self.elapsed, 2),
            "think_s": self.think,
            "errors": self.errors,
            "errors_by_status": self.errors_by_status,
            "error_samples": self.error_samples,
            "overall": self.overall.to_json(),
            "per_type": {name: latency.to_json() for name, latency in self.per_type.items()},
            "memory": [m.to_json() for m in self.memory],
            "peak_rss_mb": round(self.peak_rss / MB, 1),
            "database": self.database,
            "notes": self.notes,
        }

    def markdown(self) -> str:
        lines = [
            f"Load: {self.users} users, {self.workers} workers, {self.elapsed:.0f} s, "
            f"{self.overall.requests:,} requests, {self.overall.throughput:,.0f} req/s, "
            f"{self.errors} errors"
            + (
                " (" + ", ".join(f"{s}: {n}" for s, n in self.errors_by_status.items()) + ")"
                if self.errors
                else ""
            ),
            "",
            f"CPU per request: workers {self.overall.server_cpu_per_request * 1000:.1f} ms, "
            f"PostgreSQL {self.overall.database_cpu_per_request * 1000:.1f} ms, client "
            f"{self.overall.client_cpu_per_request * 1000:.1f} ms.",
            "",
            "| Request | Count | Errors | p50 (ms) | p95 (ms) | p99 (ms) | req/s |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, latency in [*self.per_type.items(), ("overall", self.overall)]:
            lines.append(
                f"| {name} | {latency.requests:,} | {latency.errors} | {latency.p50 * 1000:.1f} "
                f"| {latency.p95 * 1000:.1f} | {latency.p99 * 1000:.1f} "
                f"| {latency.throughput:,.1f} |"
            )
        lines += [
            "",
            "| Worker | RSS start (MB) | RSS end (MB) | Peak RSS (MB) | CPU used (s) |",
            "|---|---|---|---|---|",
        ]
        for memory in self.memory:
            lines.append(
                f"| {memory.pid} | {memory.start_rss / MB:.1f} | {memory.end_rss / MB:.1f} "
                f"| {memory.peak_rss / MB:.1f} | {memory.cpu_seconds:.1f} |"
            )
        lines.append("")
        lines.extend(f"- {note}" for note in self.notes)
        return "\n".join(lines) + "\n"


def table(result: LoadResult) -> Table:
    """The load test's requests and memory as a Rich table."""
    errors = ", ".join(f"{s}: {n}" for s, n in result.errors_by_status.items()) or "none"
    overall = result.overall
    out = Table(
        title=f"Load: {result.users} users, {result.workers} workers, {result.elapsed:.0f} s "
        f"(errors: {errors})",
        caption=f"CPU per request: workers {overall.server_cpu_per_request * 1000:.1f} ms, "
        f"PostgreSQL {overall.database_cpu_per_request * 1000:.1f} ms, client "
        f"{overall.client_cpu_per_request * 1000:.1f} ms",
    )
    for name in ("Request", "Count", "Errors", "p50 ms", "p95 ms", "p99 ms", "req/s"):
        out.add_column(name, justify="left" if name == "Request" else "right")
    for name, latency in [*result.per_type.items(), ("overall", result.overall)]:
        out.add_row(
            name,
            f"{latency.requests:,}",
            str(latency.errors),
            f"{latency.p50 * 1000:.1f}",
            f"{latency.p95 * 1000:.1f}",
            f"{latency.p99 * 1000:.1f}",
            f"{latency.throughput:,.1f}",
            style="bold" if name == "overall" else None,
        )
    for memory in result.memory:
        out.add_row(
            f"worker {memory.pid} RSS (MB): start / end / peak",
            "",
            f"{memory.cpu_seconds:.0f} s CPU",
            f"{memory.start_rss / MB:.1f}",
            f"{memory.end_rss / MB:.1f}",
            f"{memory.peak_rss / MB:.1f}",
            "",
        )
    return out


# --- the throwaway database ---------------------------------------------------------------------


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def copy_url(url: str) -> str:
    name = (make_url(url).database or "")[:58] + "_load"
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@contextmanager
def throwaway_copy(url: str, timeout: float = 30.0) -> Iterator[str]:
    """A copy of the bench database at `url`, dropped when the block ends."""
    target = copy_url(url)
    source_name = make_url(url).database or ""
    name = make_url(target).database or ""
    if not name.startswith(BENCH_PREFIX):
        raise http_servers.BenchServerError(
            f"The load test copies a bench database ({BENCH_PREFIX}*), not {display_url(url)}."
        )
    admin = _libpq(make_url(url).set(database="postgres").render_as_string(hide_password=False))
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    create = sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
        sql.Identifier(name), sql.Identifier(source_name)
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(drop)
        deadline = time.monotonic() + timeout
        while True:
            try:
                conn.execute(create)
                break
            except psycopg.errors.ObjectInUse as exc:
                if time.monotonic() > deadline:
                    raise http_servers.BenchServerError(
                        f"Cannot copy {display_url(url)} for the load test: other sessions use "
                        "it (close them first)."
                    ) from exc
                time.sleep(0.5)
    try:
        yield target
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(drop)


# --- virtual users ------------------------------------------------------------------------------


@dataclass
class _User:
    number: int
    company: str  # large | small
    headers: dict[str, str]
    workflow_id: str
    stage_keys: list[str]
    mine: list[uuid.UUID]  # records it alone edits and moves
    visible: list[uuid.UUID]  # records it may open and comment on


@dataclass
class _Recorder:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {t: [] for t in TYPES})
    statuses: dict[str, Counter[str]] = field(default_factory=lambda: {t: Counter() for t in TYPES})
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TYPES, 0))
    errors_by_status: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)


async def _call(
    client: httpx.AsyncClient,
    recorder: _Recorder,
    kind: str,
    method: str,
    path: str,
    headers: dict[str, str],
    *,
    json: Any = None,
    expect: int = 200,
) -> httpx.Response | None:
    started = time.perf_counter()
    answer: httpx.Response | None
    try:
        answer = await client.request(method, path, headers=headers, json=json)
        status = answer.status_code
    except httpx.HTTPError as exc:
        answer, status = None, 0
        failure = f"{type(exc).__name__}: {exc}"
    recorder.latencies[kind].append(time.perf_counter() - started)
    recorder.statuses[kind][str(status)] += 1
    if status == expect:
        return answer
    recorder.errors[kind] += 1
    recorder.errors_by_status[str(status)] += 1
    if len(recorder.samples) < 10:
        detail = answer.text[:200] if answer is not None else failure
        recorder.samples.append(f"{method} {path} -> {status}: {detail}")
    return None


def _missing(recorder: _Recorder, kind: str, what: str, path: str) -> None:
    """A step that could not be made: the answer lacked what it needs (counts as an error)."""
    recorder.errors[kind] += 1
    recorder.errors_by_status[what] += 1
    if len(recorder.samples) < 10:
        recorder.samples.append(f"{kind} {path}: {what}")


def _space_version(record: dict[str, Any]) -> int | None:
    for space in record.get("spaces", []):
        if space.get("is_mine"):
            version = space.get("version")
            return int(version) if version is not None else None
    return None


async def _virtual_user(
    client: httpx.AsyncClient,
    user: _User,
    recorder: _Recorder,
    deadline: float,
    think: float,
    seed: int,
    delay: float = 0.0,
) -> None:
    rng = random.Random(seed)  # noqa: S311 (a workload, not a secret)
    # users arrive one by one (Locust's spawn rate): 32 connections opened in the same instant
    # are all accepted by whichever worker wakes first (asyncio accepts a burst at once), and
    # the other workers would sit idle
    await asyncio.sleep(delay)
    actions = list(ACTIONS)
    weights = list(ACTIONS.values())
    headers = user.headers
    turn = 0
    while time.perf_counter() < deadline:
        action = rng.choices(actions, weights)[0]
        turn += 1
        if action == "browse":
            cursor: str | None = None
            for _ in range(rng.randint(1, 3)):
                path = f"/api/v1/opportunities?limit={PAGE}"
                if cursor:
                    path += f"&cursor={quote(cursor, safe='')}"
                answer = await _call(client, recorder, "list", "GET", path, headers)
                cursor = answer.json().get("next_cursor") if answer is not None else None
                if not cursor:
                    break
        elif action == "open":
            record_id = rng.choice(user.visible)
            await _call(
                client, recorder, "record", "GET", f"/api/v1/opportunities/{record_id}", headers
            )
        elif action == "edit":
            record_id = user.mine[turn % len(user.mine)]
            path = f"/api/v1/opportunities/{record_id}"
            answer = await _call(client, recorder, "record", "GET", path, headers)
            version = _space_version(answer.json()) if answer is not None else None
            if answer is not None and version is None:
                _missing(recorder, "edit", "no own space", path)
            elif version is not None:
                await _call(
                    client,
                    recorder,
                    "edit",
                    "PATCH",
                    f"{path}/spaces/mine",
                    {**headers, "If-Match": f'"{version}"'},
                    json={"fields": {"amount": rng.randint(1_000, 900_000)}},
                )
        elif action == "move":
            record_id = user.mine[turn % len(user.mine)]
            path = f"/api/v1/opportunities/{record_id}/workflows"
            answer = await _call(client, recorder, "workflow state", "GET", path, headers)
            if answer is not None:
                state = next(
                    (s for s in answer.json() if s["workflow"]["id"] == user.workflow_id), None
                )
                if state is None:
                    _missing(recorder, "move", "no workflow state", path)
                else:
                    current = (state.get("stage") or {}).get("key")
                    choices = [k for k in user.stage_keys if k != current]
                    await _call(
                        client,
                        recorder,
                        "move",
                        "POST",
                        f"{path}/{user.workflow_id}/moves",
                        {**headers, "If-Match": f'"{state["version"]}"'},
                        json={"to": rng.choice(choices), "note": "load test"},
                        expect=201,
                    )
        elif action == "comment":
            record_id = rng.choice(user.visible)
            await _call(
                client,
                recorder,
                "comment",
                "POST",
                f"/api/v1/opportunities/{record_id}/comments",
                headers,
                json={"body": f"Load test note {turn} from user {user.number}."},
                expect=201,
            )
        else:
            await _call(
                client, recorder, "report", "POST", "/api/v1/reports/run", headers, json=REPORT_BODY
            )
        if think > 0:
            await asyncio.sleep(think)


async def _drive(
    base_url: str, users: list[_User], seconds: float, think: float
) -> tuple[_Recorder, float]:
    recorder = _Recorder()
    async with make_client(base_url, len(users)) as client:
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            *(
                _virtual_user(
                    client,
                    user,
                    recorder,
                    deadline,
                    think,
                    seed=1000 + user.number,
                    delay=n * RAMP_UP / len(users),
                )
                for n, user in enumerate(users)
            )
        )
        elapsed = time.perf_counter() - started
    return recorder, elapsed


# --- setup --------------------------------------------------------------------------------------


def _workflow(base_url: str, admin_token: str) -> tuple[str, list[str]]:
    """The company workflow of the admin's company: defined now, or the active one it has."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    body = {"kind": KIND, "name": "Load test board", "stages": STAGES}
    answer = httpx.post(f"{base_url}/api/v1/workflows", json=body, headers=headers, timeout=60)
    if answer.status_code == 409:
        found = httpx.get(
            f"{base_url}/api/v1/workflows",
            params={"kind": KIND, "active": "true"},
            headers=headers,
            timeout=60,
        )
        found.raise_for_status()
        mine = [w for w in found.json() if w["scope"] == "company"]
        if not mine:
            raise http_servers.BenchServerError(f"no workflow to move cards on: {answer.text}")
        definition = mine[0]
    elif answer.status_code == 201:
        definition = answer.json()
    else:
        raise http_servers.BenchServerError(
            f"defining the load test workflow answered {answer.status_code}: {answer.text[:300]}"
        )
    return str(definition["id"]), [str(s["key"]) for s in definition["stages"]]


def _users(
    url: str,
    base_url: str,
    landmarks: Landmarks,
    tokens: dict[uuid.UUID, str],
    count: int,
) -> list[_User]:
    companies = {
        "large": (landmarks.large_company, landmarks.large_member, landmarks.large_admin),
        "small": (landmarks.small_company, landmarks.small_member, landmarks.small_admin),
    }
    plan = ["small" if n % 4 == 3 else "large" for n in range(count)]
    users: list[_User] = []
    for company in ("large", "small"):
        company_id, member, admin = companies[company]
        numbers = [n for n, c in enumerate(plan) if c == company]
        if not numbers:
            continue
        visible = active_opportunities(url, company_id)
        if not visible:
            raise http_servers.BenchServerError(f"the {company} viewer sees no record")
        workflow_id, stage_keys = _workflow(base_url, tokens[admin])
        for position, number in enumerate(numbers):
            mine = visible[position :: len(numbers)][:SLICE] or visible[:1]
            user_id = member if position % 2 == 0 else admin
            users.append(
                _User(
                    number=number,
                    company=company,
                    headers={"Authorization": f"Bearer {tokens[user_id]}"},
                    workflow_id=workflow_id,
                    stage_keys=stage_keys,
                    mine=mine,
                    visible=visible,
                )
            )
    return sorted(users, key=lambda u: u.number)


# --- memory -------------------------------------------------------------------------------------


class _Sampler:
    """Every `interval` seconds (in a thread): the RSS of each worker, and the CPU time of the
    workers and of the app's PostgreSQL backends (a backend that ends counts up to its last
    sample; one that starts during the run counts whole)."""

    def __init__(self, server: http_servers.Server, interval: float = 1.0) -> None:
        self.server = server
        self.workers = server.workers()
        self.interval = interval
        self.start = self._rss()
        self.peak = dict(self.start)
        self.worker_cpu_start = cpu_seconds(self.workers)
        self.backend_cpu_start = cpu_seconds(server.backends())
        self.backend_cpu_last = dict(self.backend_cpu_start)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def _rss(self) -> dict[int, int]:
        found: dict[int, int] = {}
        for worker in self.workers:
            try:
                found[worker.pid] = worker.memory_info().rss
            except psutil.Error:
                continue
        return found

    def _record(self) -> dict[int, int]:
        sample = self._rss()
        for pid, rss in sample.items():
            self.peak[pid] = max(self.peak.get(pid, 0), rss)
        self.backend_cpu_last.update(cpu_seconds(self.server.backends()))
        return sample

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._record()

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def finish(self) -> tuple[list[WorkerMemory], float, float]:
        """(memory of each worker, CPU seconds of the workers, of the backends)."""
        end = self._record()
        worker_cpu_end = cpu_seconds(self.workers)
        memory = [
            WorkerMemory(
                pid,
                self.start.get(pid, 0),
                end.get(pid, 0),
                self.peak.get(pid, 0),
                worker_cpu_end.get(pid, 0.0) - self.worker_cpu_start.get(pid, 0.0),
            )
            for pid in sorted(self.start)
        ]
        workers = cpu_used(self.worker_cpu_start, worker_cpu_end)
        backends = cpu_used(self.backend_cpu_start, self.backend_cpu_last)
        return memory, workers, backends


# --- the run ------------------------------------------------------------------------------------


def run(
    url: str,
    landmarks: Landmarks,
    scale: Scale,
    console: Console,
    duration: float | None = None,
    *,
    users: int = USERS,
    workers: int = WORKERS,
    think: float = 0.0,
) -> LoadResult:
    """Run the load test on a throwaway copy of the bench database at `url` (PostgreSQL; it must
    have no open connection while it is copied)."""
    http_servers.require_postgresql(url)
    seconds = duration if duration is not None else DURATION.get(scale.name, 60.0)
    console.print(f"Copying {display_url(url)} for the load test (its writes are thrown away)...")
    with throwaway_copy(url) as copy:
        app_url = http_servers.app_role_url(copy)
        user_ids = [
            landmarks.large_member,
            landmarks.large_admin,
            landmarks.small_member,
            landmarks.small_admin,
        ]
        tokens = http_servers.issue_tokens(copy, user_ids)
        console.print(f"Starting the app under uvicorn ({workers} workers)...")
        with http_servers.serve("app", copy, app_url, workers=workers) as server:
            virtual = _users(copy, server.base_url, landmarks, tokens, users)
            console.print(
                f"Load: {users} users for {seconds:g} s against {len(server.workers())} workers..."
            )
            client_started = time.process_time()
            with _Sampler(server) as sampler:
                recorder, elapsed = run_async(_drive(server.base_url, virtual, seconds, think))
            memory, server_cpu, database_cpu = sampler.finish()
            client_cpu = time.process_time() - client_started
    per_type: dict[str, Latency] = {}
    for kind in TYPES:
        samples = recorder.latencies[kind]
        if samples:
            per_type[kind] = Latency.of(
                samples, recorder.statuses[kind], elapsed, recorder.errors[kind]
            )
    everything = [s for kind in TYPES for s in recorder.latencies[kind]]
    statuses: Counter[str] = Counter()
    for counter in recorder.statuses.values():
        statuses.update(counter)
    overall = Latency.of(
        everything,
        statuses,
        elapsed,
        sum(recorder.errors.values()),
        client_cpu=client_cpu,
        server_cpu=server_cpu,
        database_cpu=database_cpu,
    )
    notes = [
        f"{users} closed-loop users (think time {think:g} s) in the benchmark process; "
        f"uvicorn with {workers} workers, access log off, on the same machine.",
        "Mix: browse 35 (1-3 list pages), open 25, edit 15 (open + PATCH spaces/mine with "
        "If-Match), move 10 (workflow state + move with If-Match), comment 10, report 5.",
        "Writes went to a throwaway copy of the bench database, dropped afterwards.",
        "Memory: resident set size of each worker, sampled every second; CPU used per worker "
        "shows how the load was shared.",
        f"Users arrive evenly over the first {RAMP_UP:g} s (in the timed run), so their "
        "connections spread over the workers.",
        "CPU per request: the workers' and the app's PostgreSQL backends' CPU time over the "
        "run, divided by the requests answered; and the client's.",
    ]
    return LoadResult(
        users=users,
        workers=workers,
        duration=seconds,
        elapsed=elapsed,
        think=think,
        per_type=per_type,
        overall=overall,
        errors_by_status=dict(sorted(recorder.errors_by_status.items())),
        error_samples=recorder.samples,
        memory=memory,
        database=display_url(copy_url(url)),
        notes=notes,
    )
