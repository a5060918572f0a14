"""Peak memory of an export: the records export (`records.export.export`, what
`GET /api/v1/opportunities/export` returns) of every opportunity a company sees, run in a fresh
process, against the same export of a tenth of the rows.

Each export runs in its own fresh process (so no other figure's memory counts): it connects,
resolves the viewer's member as authentication would, runs one export that matches no row (so
imports, templates and compiled SQL are paid before measuring), then exports for real, draining
the streaming response as a client would, while a thread samples the process's resident memory
(RSS) every millisecond. The figure's value is the peak RSS during the export minus the RSS just
before it: the export's own working set. Exports stream (keyset batches of 1,000 rows; CSV
chunk by chunk, XLSX through openpyxl's write-only mode and a spooled file), so it must not grow
with the row count: the target is a ratio of at most 1.5x for ten times the rows, or a growth
within 8 MB (the allocator's noise at small sizes).

The company: the auto-share target, which owns `export_rows` opportunities (100k at the large
scale) shared with its few partners; the smaller export is those of them in EMEA in its own space
(`mine.region = emea`, a tenth). Not the large viewer: an export has a column group per partner
company sharing fields on the exported rows, and the large viewer's records have thousands of
partners (300 at the medium scale already make a join too deep to compile; see the run notes).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterable
from typing import TYPE_CHECKING, Any

import psutil

from bench import database
from bench.dataset import KIND
from bench.figure import MEMORY_UNIT, Figure, actor_of
from bench.http_client import run_async
from bench.processes import child_environment
from bench.timing import Stats
from coterie.db import make_engine
from coterie.records import export, service
from coterie.records.kinds import KINDS, Kind

if TYPE_CHECKING:
    from bench.suite import Suite

FORMATS: tuple[export.ExportFormat, ...] = ("csv", "xlsx")
SAMPLE_SECONDS = 0.001
NOISE_BYTES = 8 * 2**20
SUBSET = json.dumps({"field": "mine.region", "op": "eq", "value": "emea"})
NOTHING = json.dumps({"field": "title", "op": "eq", "value": "(no record has this title)"})
CHILD_TIMEOUT = 1800.0


class _Sampler(threading.Thread):
    """The highest RSS of this process seen while running."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process()
        self.peak = self.process.memory_info().rss
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            self.done.wait(SAMPLE_SECONDS)

    def stop(self) -> int:
        self.done.set()
        self.join()
        return max(self.peak, self.process.memory_info().rss)


async def _drain(body: AsyncIterable[Any]) -> int:
    size = 0
    async for chunk in body:
        size += len(chunk)
    return size


def export_once(
    url: str, user_id: uuid.UUID, export_format: export.ExportFormat, filter_text: str | None
) -> dict[str, Any]:
    """Run one export as the user (after a warm-up export of no row); its peak RSS growth."""
    engine = make_engine(url)
    try:
        factory = database.session_factory(engine)
        info = KINDS[Kind.OPPORTUNITY]
        with factory() as session:
            actor = actor_of(session, user_id)
            warm = export.export(
                session, actor, info, export_format, filter_text=NOTHING, sort_text=None
            )
            run_async(_drain(warm.body_iterator))
            rows = service.count_visible(session, actor, KIND, filter_text=filter_text)
            session.rollback()
            actor = actor_of(session, user_id)
            before = psutil.Process().memory_info().rss
            sampler = _Sampler()
            sampler.start()
            started = time.perf_counter()
            response = export.export(
                session, actor, info, export_format, filter_text=filter_text, sort_text=None
            )
            size = run_async(_drain(response.body_iterator))
            seconds = time.perf_counter() - started
            peak = sampler.stop()
            session.rollback()
    finally:
        engine.dispose()
    return {
        "rows": rows,
        "bytes": size,
        "seconds": seconds,
        "rss_before": before,
        "peak_rss": peak,
        "growth": peak - before,
    }


def in_subprocess(
    url: str, user_id: uuid.UUID, export_format: export.ExportFormat, filter_text: str | None
) -> dict[str, Any]:
    """`export_once` in a fresh Python process (`python -m bench.memory`), which prints
    its result as JSON."""
    arguments = [sys.executable, "-m", __name__, url, str(user_id), export_format]
    if filter_text is not None:
        arguments.append(filter_text)
    done = subprocess.run(  # noqa: S603 (our own module, our own arguments)
        arguments,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
        check=False,
        env=child_environment(),
    )
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1:] or ["no error output"]
        raise RuntimeError(f"the {export_format} export failed in its process: {last[0]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _stats(measured: dict[str, Any]) -> Stats:
    # one measurement; a growth of 0 (everything fitted in memory already held) counts as 1 byte
    growth = float(max(1, int(measured["growth"])))
    return Stats(growth, growth, 1)


def export_memory(suite: Suite) -> None:
    member = suite.landmarks.target_member
    bind = suite.factory.kw.get("bind")
    if bind is None:
        raise LookupError("the session factory has no engine")
    url = bind.url.render_as_string(hide_password=False)
    for export_format in FORMATS:
        small = in_subprocess(url, member, export_format, SUBSET)
        big = in_subprocess(url, member, export_format, None)
        figure = Figure(
            key=f"memory.export.{export_format}",
            group="memory",
            label=(
                f"Export {export_format.upper()} peak memory growth, {big['rows']:,} rows "
                f"(vs {small['rows']:,})"
            ),
            subject=_stats(big),
            baseline_label=f"same export of {small['rows']:,} rows",
            baseline=_stats(small),
            target="flat: <= 1.5x (or within 8 MB)",
            unit=MEMORY_UNIT,
            details={
                "rows": big["rows"],
                "baseline_rows": small["rows"],
                "large": big,
                "small": small,
            },
        )
        figure.passed = figure.ratio <= 1.5 or big["growth"] - small["growth"] <= NOISE_BYTES
        suite.add(figure)


def main(argv: list[str]) -> None:
    url, user_id, export_format = argv[0], uuid.UUID(argv[1]), argv[2]
    if export_format not in FORMATS:
        raise SystemExit(f"unknown export format {export_format}")
    filter_text = argv[3] if len(argv) > 3 else None
    result = export_once(url, user_id, "csv" if export_format == "csv" else "xlsx", filter_text)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
