"""Growth curves: how the list, record, report and write figures grow from 10k to 1M records.

`python -m bench run --scale large` measures the same suite on the `small` (10k), `medium` (100k)
and `large` (1M) data sets; this module puts their figures side by side, as a Markdown table
and as one PNG (`bench/results/growth-<date>.png`): one panel per figure, Coterie's median and
its baseline's (milliseconds from zero; records on a log axis), so a cost that grows with
the network (rather than with the page) shows as a rising line at a glance.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.figure import Figure
from bench.report import RunResult
from bench.scales import SCALES

# figure key -> panel title; the large viewer sees about 10% of the records at every scale
CURVES: dict[str, str] = {
    "list.masked.first.large": "List page (50, masked), large viewer",
    "record.get.large": "Record page (masked), large viewer",
    "report.grouped.large": "Grouped report, large viewer",
    "write.large": "Write my space, large viewer",
}


@dataclass(frozen=True)
class Point:
    records: int
    visible: int
    subject_ms: float
    baseline_ms: float

    @property
    def ratio(self) -> float:
        return self.subject_ms / self.baseline_ms if self.baseline_ms else 0.0


def _records(result: RunResult) -> int:
    """The opportunities of the run's scale (the data set also holds leads and plans)."""
    scale = SCALES.get(result.scale)  # type: ignore[call-overload]
    return scale.records if scale is not None else int(result.dataset["rows"]["records"])


def _visible(result: RunResult) -> int:
    return int(result.dataset.get("large_visible", 0))


def points(results: list[RunResult]) -> dict[str, list[Point]]:
    """Figure key -> its points, by growing record count (figures missing from a run are left
    out of that run's point)."""
    curves: dict[str, list[Point]] = {key: [] for key in CURVES}
    for result in sorted(results, key=_records):
        by_key: dict[str, Figure] = {f.key: f for f in result.figures}
        for key in CURVES:
            figure = by_key.get(key)
            if figure is None:
                continue
            curves[key].append(
                Point(
                    records=_records(result),
                    visible=_visible(result),
                    subject_ms=figure.subject.median * 1000,
                    baseline_ms=figure.baseline.median * 1000,
                )
            )
    return curves


def _count(value: int) -> str:
    if value >= 1_000_000 and value % 1_000_000 == 0:
        return f"{value // 1_000_000}M"
    if value >= 1_000:
        return f"{value / 1000:g}k"
    return str(value)


def markdown(results: list[RunResult]) -> str:
    """One row per figure and scale: records, visible to the large viewer, medians, ratio."""
    lines = [
        "| Figure | Opportunities | Visible (large viewer) | Median | Baseline median | Ratio |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for key, curve in points(results).items():
        for point in curve:
            lines.append(
                f"| {CURVES[key]} | {_count(point.records)} | {point.visible:,} | "
                f"{point.subject_ms:.2f} ms | {point.baseline_ms:.2f} ms | {point.ratio:.2f}x |"
            )
    return "\n".join(lines) + "\n"


def plot(results: list[RunResult], path: Path) -> Path:
    """Draw the curves into `path` (PNG, written through a .tmp file) and return it."""
    import matplotlib

    matplotlib.use("Agg")  # no screen: render to a file
    import matplotlib.pyplot as plt

    curves = points(results)
    figure, axes = plt.subplots(2, 2, figsize=(11, 8), constrained_layout=True)
    for axis, (key, title) in zip(axes.flat, CURVES.items(), strict=True):
        curve = curves[key]
        axis.set_title(title, fontsize=11)
        axis.set_xscale("log")
        axis.set_xlabel("opportunities in the database")
        axis.set_ylabel("median, ms")
        axis.grid(True, which="both", alpha=0.3)
        if not curve:
            axis.text(0.5, 0.5, "not measured", ha="center", va="center", transform=axis.transAxes)
            continue
        xs = [p.records for p in curve]
        axis.plot(xs, [p.subject_ms for p in curve], "o-", label="Coterie (authorized)")
        axis.plot(xs, [p.baseline_ms for p in curve], "s--", label="baseline (no authorization)")
        for point in curve:
            axis.annotate(
                f"{point.subject_ms:.1f} ms\n{point.ratio:.2f}x",
                (point.records, point.subject_ms),
                textcoords="offset points",
                xytext=(4, 6),
                fontsize=8,
            )
        axis.set_xticks(xs, [_count(x) for x in xs])
        axis.minorticks_off()
        highest = max(max(p.subject_ms, p.baseline_ms) for p in curve)
        axis.set_ylim(0, highest * 1.3)
        axis.legend(fontsize=8, loc="lower right")
    figure.suptitle("Coterie benchmark: cost growth with the size of the network", fontsize=13)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    figure.savefig(partial, dpi=110, format="png")
    plt.close(figure)
    partial.replace(path)
    return path
