"""The sizes of the benchmark data sets (smoke, medium, large) and how often each figure repeats.

`large` is the issue's shape: 1M opportunities, 10k companies, about 2.5 participants per record,
a small viewer company that sees about 200 records and a large one that sees about 50k, and an
auto-share rule of the large viewer that matches 10k of its records. `medium` is a tenth of it;
`smoke` is tiny, for CI (it proves every figure is produced, its timings mean nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ScaleName = Literal["smoke", "medium", "large"]


@dataclass(frozen=True)
class Scale:
    name: ScaleName
    records: int
    companies: int
    # the large viewer: records it owns, records of partners it actively participates in, and
    # how many partners it has (its partners' records are where it is invited)
    large_owned: int
    large_shared: int
    large_partners: int
    # the small viewer, likewise
    small_owned: int
    small_shared: int
    small_partners: int
    # the large viewer's active records the benchmark auto-share rule matches (region = emea)
    rule_matches: int
    # each ordinary company starts this many partnerships (so about twice as many partners)
    partnerships_per_company: int
    # repetitions (after warm-up) of each kind of figure
    list_repetitions: int
    check_repetitions: int
    write_repetitions: int
    rule_repetitions: int
    evaluate_loops: int

    @property
    def large_visible(self) -> int:
        return self.large_owned + self.large_shared

    @property
    def small_visible(self) -> int:
        return self.small_owned + self.small_shared


SCALES: dict[ScaleName, Scale] = {
    "smoke": Scale(
        name="smoke",
        records=3_000,
        companies=30,
        large_owned=100,
        large_shared=200,
        large_partners=15,
        small_owned=20,
        small_shared=50,
        small_partners=4,
        rule_matches=60,
        partnerships_per_company=3,
        list_repetitions=15,
        check_repetitions=30,
        write_repetitions=8,
        rule_repetitions=2,
        evaluate_loops=2_000,
    ),
    "medium": Scale(
        name="medium",
        records=100_000,
        companies=1_000,
        large_owned=2_000,
        large_shared=3_000,
        large_partners=300,
        small_owned=50,
        small_shared=150,
        small_partners=8,
        rule_matches=1_000,
        partnerships_per_company=5,
        list_repetitions=200,
        check_repetitions=300,
        write_repetitions=60,
        rule_repetitions=5,
        evaluate_loops=20_000,
    ),
    "large": Scale(
        name="large",
        records=1_000_000,
        companies=10_000,
        large_owned=20_000,
        large_shared=30_000,
        large_partners=3_000,
        small_owned=50,
        small_shared=150,
        small_partners=8,
        rule_matches=10_000,
        partnerships_per_company=5,
        list_repetitions=300,
        check_repetitions=500,
        write_repetitions=100,
        rule_repetitions=5,
        evaluate_loops=50_000,
    ),
}
