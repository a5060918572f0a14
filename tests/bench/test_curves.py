"""The growth curves: each figure's points ordered by the size of the data set, the Markdown
table a reader compares, and a PNG that opens; plus which database each curve point uses and
what a run measures by default at each scale."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from bench import curves
from bench.figure import Figure
from bench.report import RunResult
from bench.run import Plan, sibling_url
from bench.timing import Stats


def _result(scale: str, visible: int, subject_ms: float, baseline_ms: float) -> RunResult:
    figures = [
        Figure(
            key=key,
            group="g",
            label=key,
            subject=Stats(median=subject_ms / 1000, p95=subject_ms / 1000, n=5),
            baseline_label="plain",
            baseline=Stats(median=baseline_ms / 1000, p95=baseline_ms / 1000, n=5),
            target="",
            unit="ms",
        )
        for key in curves.CURVES
        if key != "record.get.large"  # a run that lacks a figure leaves that point out
        or scale != "small"
    ]
    return RunResult(
        scale=scale,
        seed=42,
        dialect="postgresql",
        database="x",
        started_at="2026-11-27T10:00:00+00:00",
        finished_at="2026-11-27T10:01:00+00:00",
        environment={},
        dataset={"rows": {"records": 0}, "large_visible": visible},
        checks=[],
        figures=figures,
    )


def test_points_are_ordered_by_size_and_the_png_is_drawn(tmp_path: Path) -> None:
    results = [
        _result("large", 100_000, 8.0, 4.0),
        _result("small", 1_000, 4.0, 2.0),
        _result("medium", 10_000, 6.0, 2.0),
    ]
    points = curves.points(results)
    assert [p.records for p in points["list.masked.first.large"]] == [10_000, 100_000, 1_000_000]
    assert [p.ratio for p in points["list.masked.first.large"]] == [2.0, 3.0, 2.0]
    assert [p.records for p in points["record.get.large"]] == [100_000, 1_000_000]

    table = curves.markdown(results)
    assert (
        "| List page (50, masked), large viewer | 1M | 100,000 | 8.00 ms | 4.00 ms | 2.00x |"
        in (table)
    )

    png = curves.plot(results, tmp_path / "growth.png")
    with Image.open(png) as image:
        assert image.format == "PNG"
        assert image.width > 800
        assert image.height > 600
    assert not (tmp_path / "growth.png.tmp").exists()


def test_curve_points_live_beside_the_main_data_set() -> None:
    url = "postgresql://postgres@127.0.0.1:5432/coterie_bench_large"
    assert sibling_url(url, "large", "medium").endswith("/coterie_bench_medium")
    sqlite = "sqlite:////var/bench/coterie_bench_large.sqlite3"
    assert (
        sibling_url(sqlite, "large", "small") == "sqlite:////var/bench/coterie_bench_small.sqlite3"
    )


def test_what_a_run_measures_by_default() -> None:
    assert Plan.default("smoke", "postgresql") == Plan(http=False, load_seconds=0.0, curves=False)
    assert Plan.default("large", "postgresql") == Plan(http=True, load_seconds=300.0, curves=True)
    assert Plan.default("medium", "postgresql") == Plan(http=True, load_seconds=60.0, curves=False)
    # the HTTP figures and the load test need PostgreSQL: never planned on SQLite
    assert Plan.default("large", "sqlite") == Plan(http=False, load_seconds=0.0, curves=True)
