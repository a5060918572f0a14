"""`python -m bench`: generate the benchmark data set and measure the authorization gate.

    python -m bench run --scale smoke|medium|large [--database-url URL] [--seed N] [--regenerate]
    python -m bench generate --scale ... (only build or check the data set)
    python -m bench http --scale ... (end-to-end HTTP figures against the framework floor)
    python -m bench load --scale ... [--duration S] (the load test, on a copy of the data set)
    python -m bench outbox (outbox throughput); sync [--records N] (CRM sync load, round trip)

Run it from the repository root (the `bench` package lives there, outside the installed `coterie`
runtime package); `make bench SCALE=...` does.

The database defaults to coterie_bench_<scale> on the local PostgreSQL server
(COTERIE_BENCH_DATABASE_URL overrides it; `{scale}` in it is replaced). Heavy imports happen
inside the commands, so `--help` starts fast.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

RESULTS_DIR = Path(__file__).resolve().parent / "results"  # wherever the command runs from

if TYPE_CHECKING:
    from bench.dataset import Landmarks

app = typer.Typer(
    help="Benchmarks of the authorization gate on a generated data set.", no_args_is_help=True
)
console = Console()


@app.callback()
def _start() -> None:
    """Every command writes through the services, whose record hooks need their subscribers
    (`coterie.wiring`), as in any other entry point of the runtime."""
    from coterie import wiring  # lazy: `--help` starts fast (module doc)

    wiring.install()


class ScaleOption(StrEnum):
    SMOKE = "smoke"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


ScaleArg = Annotated[
    ScaleOption,
    typer.Option(
        help="smoke (CI, seconds), small (10k records), medium (100k), large (1M records)."
    ),
]
UrlArg = Annotated[
    str | None,
    typer.Option(
        help="Database of the data set (created if missing); default "
        "postgresql://postgres@127.0.0.1:5432/coterie_bench_<scale>, or "
        "COTERIE_BENCH_DATABASE_URL. Only databases named coterie_bench* are ever dropped."
    ),
]
SeedArg = Annotated[int, typer.Option(help="Seed of the data set.")]
RegenerateArg = Annotated[
    bool, typer.Option(help="Generate the data set again even if the database holds it.")
]


def _fail(message: str) -> None:
    Console(stderr=True).print(Text(message, style="red"), soft_wrap=True)
    raise typer.Exit(code=1)


@app.command("run")
def run(
    scale: ScaleArg = ScaleOption.SMOKE,
    database_url: UrlArg = None,
    seed: SeedArg = 42,
    regenerate: RegenerateArg = False,
    results_dir: Annotated[
        Path, typer.Option(help="Where <scale>-<date>.json and .md are written.")
    ] = RESULTS_DIR,
    http: Annotated[
        bool | None,
        typer.Option(
            "--http/--no-http",
            help="End-to-end HTTP figures (default: on for medium and large on PostgreSQL).",
        ),
    ] = None,
    load_seconds: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="Seconds of the load test, 0 for none (default: medium 60, large 300 on "
            "PostgreSQL, else none).",
        ),
    ] = None,
    curves: Annotated[
        bool | None,
        typer.Option(
            "--curves/--no-curves",
            help="Growth curves: the list, record, report and write figures also on the small "
            "(10k) and medium (100k) data sets, plotted to bench/results/growth-<date>.png "
            "(default: on for large).",
        ),
    ] = None,
) -> None:
    """Run every benchmark; print the tables and write them as JSON and Markdown.

    Prepares the data set (or reuses it), checks it against the gate, the grants and the
    templates, then measures each figure against its baseline; then, by scale, the end-to-end
    HTTP figures against a bare ASGI floor, the load test and the growth curves.
    """
    from sqlalchemy import make_url

    from bench import database, verify
    from bench import run as bench_run

    url = database_url or database.default_url(scale.value)
    default = bench_run.Plan.default(scale.value, make_url(url).get_backend_name())
    plan = bench_run.Plan(
        http=default.http if http is None else http,
        load_seconds=default.load_seconds if load_seconds is None else load_seconds,
        curves=default.curves if curves is None else curves,
    )
    try:
        bench_run.run(
            scale.value,
            url,
            seed=seed,
            regenerate=regenerate,
            results_dir=results_dir,
            console=console,
            plan=plan,
        )
    except (database.BenchDatabaseError, verify.DatasetInconsistentError) as exc:
        _fail(str(exc))


@app.command("generate")
def generate(
    scale: ScaleArg = ScaleOption.SMOKE,
    database_url: UrlArg = None,
    seed: SeedArg = 42,
    regenerate: RegenerateArg = False,
) -> None:
    """Build the data set (or find it already there) without running the benchmarks."""
    from bench import database
    from bench.scales import SCALES

    url = database_url or database.default_url(scale.value)
    try:
        prepared = database.prepare(
            url, SCALES[scale.value], seed, regenerate=regenerate, console=console
        )
    except database.BenchDatabaseError as exc:
        _fail(str(exc))
        return
    state = "generated" if prepared.generated else "already there (reused)"
    console.print(f"Data set {scale.value}/{seed} in {database.display_url(url)}: {state}.")


JsonArg = Annotated[
    Path | None,
    typer.Option(
        "--json", help="Also write the figures to this JSON file, and as Markdown next to it (.md)."
    ),
]


def _write_results(path: Path | None, data: dict[str, Any], markdown: str) -> None:
    if path is None:
        return
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    path.with_suffix(".md").write_text(markdown, encoding="utf-8")
    console.print(f"Figures: {path} and {path.with_suffix('.md')}")


def _prepared_landmarks(
    scale: ScaleOption, database_url: str | None, seed: int
) -> tuple[str, Landmarks]:
    """The data set for `bench http` and `bench load` (PostgreSQL only), prepared or reused."""
    from bench import database, http_servers
    from bench.scales import SCALES

    url = database_url or database.default_url(scale.value)
    http_servers.require_postgresql(url)
    prepared = database.prepare(url, SCALES[scale.value], seed, regenerate=False, console=console)
    return url, prepared.landmarks


@app.command("http")
def http(
    scale: ScaleArg = ScaleOption.SMOKE,
    database_url: UrlArg = None,
    seed: SeedArg = 42,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn workers of each server.")] = 1,
    seconds: Annotated[
        float | None, typer.Option(min=0.1, help="Seconds per cell (default by scale).")
    ] = None,
    warmup: Annotated[
        float | None, typer.Option(min=0, help="Warm-up seconds per cell (default by scale).")
    ] = None,
    json_path: JsonArg = None,
) -> None:
    """End-to-end HTTP latency and throughput against the framework floor (PostgreSQL).

    The list, record and report routes of the app under uvicorn, with 1, 8 and 32 concurrent
    clients, each against a bare ASGI endpoint running the same SQL, measured in the same run.
    """
    from bench import database
    from bench import http as bench_http
    from bench.scales import SCALES

    try:
        url, landmarks = _prepared_landmarks(scale, database_url, seed)
        result = bench_http.measure(
            url,
            landmarks,
            SCALES[scale.value],
            console,
            workers=workers,
            seconds=seconds,
            warmup=warmup,
        )
    except database.BenchDatabaseError as exc:
        _fail(str(exc))
        return
    console.print(bench_http.table(result))
    _write_results(json_path, result.to_json(), result.markdown())
    for note in result.notes:
        console.print(f"- {note}", soft_wrap=True)


@app.command("load")
def load(
    scale: ScaleArg = ScaleOption.SMOKE,
    database_url: UrlArg = None,
    seed: SeedArg = 42,
    duration: Annotated[
        float | None,
        typer.Option(min=1, help="Seconds of load (default: smoke 10, medium 60, large 300)."),
    ] = None,
    users: Annotated[int, typer.Option(min=1, help="Concurrent virtual users.")] = 32,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn workers of the app.")] = 2,
    json_path: JsonArg = None,
) -> None:
    """Load test: users browse, edit, move cards, comment, run reports (PostgreSQL).

    Virtual users against several app workers under uvicorn: errors, p50/p95/p99 per request
    type and the workers' memory (start, end, peak). Its writes go to a copy of the data set,
    dropped afterwards.
    """
    from bench import database
    from bench import load as bench_load
    from bench.scales import SCALES

    try:
        url, landmarks = _prepared_landmarks(scale, database_url, seed)
        result = bench_load.run(
            url, landmarks, SCALES[scale.value], console, duration, users=users, workers=workers
        )
    except database.BenchDatabaseError as exc:
        _fail(str(exc))
        return
    console.print(bench_load.table(result))
    _write_results(json_path, result.to_json(), result.markdown())
    for sample in result.error_samples:
        console.print(Text(f"error: {sample}", style="red"), soft_wrap=True)
    for note in result.notes:
        console.print(f"- {note}", soft_wrap=True)


@app.command("observability")
def observability(
    requests: Annotated[int, typer.Option(min=100, help="Requests per round and side.")] = 1000,
    rounds: Annotated[int, typer.Option(min=3, help="Alternating rounds.")] = 9,
) -> None:
    """What the observability middleware (request id, metrics, access log) adds per request.

    The same app with and without it, called in process as an ASGI application (no server, no
    test client), rounds alternating; logging as in production (JSON, INFO) to the null device.
    """
    from rich.table import Table

    from bench import observability as bench_observability

    table = Table("path", "with (µs)", "without (µs)", "added (µs, median of rounds)")
    for row in bench_observability.measure(requests, rounds):
        table.add_row(
            row.path, f"{row.with_us:.1f}", f"{row.without_us:.1f}", f"{row.added_us:.1f}"
        )
    console.print(table)


@app.command("outbox")
def outbox(
    database_url: Annotated[
        str | None,
        typer.Option(
            help="A database to migrate and use (its outbox is emptied); default a "
            "temporary SQLite file."
        ),
    ] = None,
    messages: Annotated[int, typer.Option(min=1, help="E-mails queued and delivered.")] = 10_000,
    threads: Annotated[int, typer.Option(min=1, help="Threads of the worker.")] = 4,
    requests: Annotated[
        int, typer.Option(min=20, help="Requests of each kind for the added latency.")
    ] = 500,
    results_dir: Annotated[
        Path, typer.Option(help="Where outbox-<date>-<dialect>.json and .md are written.")
    ] = RESULTS_DIR,
) -> None:
    """Outbox throughput (N e-mails delivered to a local SMTP server by a worker) and the latency
    a request adds by queuing an e-mail."""
    from bench import outbox as outbox_bench

    result = outbox_bench.run(database_url, messages, threads, requests, results_dir)
    console.print(result.markdown())


class PeerOption(StrEnum):
    SALESFORCE = "salesforce"
    SALESFORCE_HTTP = "salesforce-http"
    TRYTON = "tryton"


@app.command("sync")
def sync(
    database_url: Annotated[
        str | None,
        typer.Option(
            help="A database to migrate and use (a new company each run); default a temporary "
            "SQLite file."
        ),
    ] = None,
    records: Annotated[
        int, typer.Option(min=1, help="Opportunities in Coterie for the initial load.")
    ] = 10_000,
    edits: Annotated[int, typer.Option(min=2, help="CRM edits for the round trip.")] = 50,
    poll: Annotated[
        int, typer.Option(min=1, help="Seconds between a connection's runs (the stated poll).")
    ] = 300,
    peer: Annotated[
        list[PeerOption] | None,
        typer.Option(
            help="Peers to measure (repeat the option); default all: the Salesforce fake in "
            "process and served over loopback HTTP, and Tryton."
        ),
    ] = None,
    repeat: Annotated[
        int,
        typer.Option(min=1, help="Runs of the engine and of the batch loop, alternated (medians)."),
    ] = 3,
    results_dir: Annotated[
        Path, typer.Option(help="Where sync-<date>-<dialect>.json and .md are written.")
    ] = RESULTS_DIR,
) -> None:
    """CRM sync: the initial load of N opportunities into the Salesforce fake and a real
    Tryton, against bare loops of the same client, and the round trip of a CRM edit."""
    from bench import sync as sync_bench

    peers = [p.value for p in peer] if peer else [p.value for p in PeerOption]
    result = sync_bench.run(database_url, records, edits, poll, peers, results_dir, repeat)
    console.print(result.markdown(), soft_wrap=True)
