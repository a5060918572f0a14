"""`python -m bench observability`, in a process of its own (it configures logging as production
does): it prints the three figures, and the middleware alone costs more than the app that answers
at once."""

from __future__ import annotations

import re

import pytest

from tests.bench.test_package import ROOT, run_python


@pytest.mark.slow
def test_the_overhead_is_measured_with_and_without_the_middleware() -> None:
    result = run_python(
        "-m", "bench", "observability", "--requests", "100", "--rounds", "3", cwd=ROOT
    )

    assert result.returncode == 0, result.stderr
    rows = {
        match[1].strip(): (float(match[2]), float(match[3]))
        for match in re.finditer(
            r"│ ([^│]+?)\s*│ ([\d.]+)\s*│ ([\d.]+)\s*│ (-?[\d.]+)", result.stdout
        )
    }
    assert set(rows) == {"middleware alone", "/livez", "/api/v1/no-such-thing"}, result.stdout
    with_it, without = rows["middleware alone"]
    assert 0 < without < with_it
