"""The sizes of the benchmark data sets (smoke, small, medium, large) and their repetitions.

`large` is the issue's shape: 1M opportunities (plus 200k leads and 5k joint plans), 10k
companies, about 2.5 participants per record, a small viewer company that sees 200 opportunities
and a large one that sees 100k (the grouped report's "100k visible"), and an auto-share rule of
the large viewer that matches 10k of its records; the auto-share target owns 100k more (the
export figure's rows). `medium` is a tenth of it and `small` a hundredth (the three are the
points of the growth curves); `smoke` is tiny, for CI (it proves every figure is produced, its
timings mean nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ScaleName = Literal["smoke", "small", "medium", "large"]


@dataclass(frozen=True)
class Scale:
    name: ScaleName
    records: int  # opportunities
    leads: int
    plans: int  # joint sales plans, each linking some of its owner's opportunities
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
    # the export figure's company (the auto-share target): the opportunities it owns (a tenth of
    # them in EMEA in its space) and its partners (the only companies on those records)
    export_rows: int
    export_partners: int
    # each ordinary company starts this many partnerships (so about twice as many partners)
    partnerships_per_company: int
    # repetitions (after warm-up) of each kind of figure
    list_repetitions: int
    check_repetitions: int
    write_repetitions: int
    rule_repetitions: int
    evaluate_loops: int
    # the Casbin figure: repetitions, and how many candidate rows one page may scan at most
    casbin_repetitions: int
    casbin_scan_cap: int
    # users of each ordinary company: an admin, a manager and members (the large viewer has 12)
    users_per_company: int = 3

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
        leads=600,
        plans=30,
        companies=30,
        large_owned=100,
        large_shared=200,
        large_partners=15,
        small_owned=20,
        small_shared=50,
        small_partners=4,
        rule_matches=60,
        export_rows=300,
        export_partners=3,
        partnerships_per_company=3,
        list_repetitions=15,
        check_repetitions=30,
        write_repetitions=8,
        rule_repetitions=2,
        evaluate_loops=2_000,
        casbin_repetitions=3,
        casbin_scan_cap=10_000,
    ),
    # the 10k point of the growth curves (`bench run --scale large` measures it too)
    "small": Scale(
        name="small",
        records=10_000,
        leads=2_000,
        plans=50,
        companies=100,
        large_owned=400,
        large_shared=600,
        large_partners=30,
        small_owned=50,
        small_shared=150,
        small_partners=8,
        rule_matches=100,
        export_rows=1_000,
        export_partners=3,
        partnerships_per_company=5,
        list_repetitions=200,
        check_repetitions=300,
        write_repetitions=60,
        rule_repetitions=5,
        evaluate_loops=20_000,
        casbin_repetitions=5,
        casbin_scan_cap=20_000,
    ),
    "medium": Scale(
        name="medium",
        records=100_000,
        leads=20_000,
        plans=500,
        companies=1_000,
        large_owned=4_000,
        large_shared=6_000,
        large_partners=300,
        small_owned=50,
        small_shared=150,
        small_partners=8,
        rule_matches=1_000,
        export_rows=10_000,
        export_partners=5,
        partnerships_per_company=5,
        list_repetitions=200,
        check_repetitions=300,
        write_repetitions=60,
        rule_repetitions=5,
        evaluate_loops=20_000,
        casbin_repetitions=5,
        casbin_scan_cap=200_000,
    ),
    "large": Scale(
        name="large",
        records=1_000_000,
        leads=200_000,
        plans=5_000,
        companies=10_000,
        large_owned=40_000,
        large_shared=60_000,
        large_partners=3_000,
        small_owned=50,
        small_shared=150,
        small_partners=8,
        rule_matches=10_000,
        export_rows=100_000,
        export_partners=5,
        partnerships_per_company=5,
        list_repetitions=300,
        check_repetitions=500,
        write_repetitions=100,
        rule_repetitions=5,
        evaluate_loops=50_000,
        casbin_repetitions=3,
        casbin_scan_cap=400_000,
        users_per_company=10,  # 100k users
    ),
}
