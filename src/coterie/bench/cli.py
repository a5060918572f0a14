"""`coterie bench`: generate the benchmark data set and measure the authorization gate.

    coterie bench run --scale smoke|medium|large [--database-url URL] [--seed N] [--regenerate]
    coterie bench generate --scale ... (only build or check the data set)

The database defaults to coterie_bench_<scale> on the local PostgreSQL server
(COTERIE_BENCH_DATABASE_URL overrides it; `{scale}` in it is replaced). Heavy imports happen
inside the commands, so the rest of the CLI starts fast.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

bench_app = typer.Typer(
    help="Benchmarks of the authorization gate on a generated data set.", no_args_is_help=True
)
console = Console()


class ScaleOption(StrEnum):
    SMOKE = "smoke"
    MEDIUM = "medium"
    LARGE = "large"


ScaleArg = Annotated[
    ScaleOption,
    typer.Option(help="smoke (CI, seconds), medium (100k records), large (1M records)."),
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


@bench_app.command("run")
def run(
    scale: ScaleArg = ScaleOption.SMOKE,
    database_url: UrlArg = None,
    seed: SeedArg = 42,
    regenerate: RegenerateArg = False,
    results_dir: Annotated[
        Path, typer.Option(help="Where <scale>-<date>.json and .md are written.")
    ] = Path("bench/results"),
) -> None:
    """Run every benchmark; print one table and write it as JSON and Markdown.

    Prepares the data set (or reuses it), checks it against the gate, the grants and the
    templates, then measures each figure against its baseline.
    """
    from coterie.bench import database, verify
    from coterie.bench import run as bench_run

    url = database_url or database.default_url(scale.value)
    try:
        bench_run.run(
            scale.value,
            url,
            seed=seed,
            regenerate=regenerate,
            results_dir=results_dir,
            console=console,
        )
    except (database.BenchDatabaseError, verify.DatasetInconsistentError) as exc:
        _fail(str(exc))


@bench_app.command("generate")
def generate(
    scale: ScaleArg = ScaleOption.SMOKE,
    database_url: UrlArg = None,
    seed: SeedArg = 42,
    regenerate: RegenerateArg = False,
) -> None:
    """Build the data set (or find it already there) without running the benchmarks."""
    from coterie.bench import database
    from coterie.bench.scales import SCALES

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
