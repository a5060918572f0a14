"""The README's "Demo network" section, rendered from the demo data so the two never disagree.

After changing `coterie.demo.data`, paste the output of

    .venv/bin/python -m coterie.demo.docs

between the demo-network markers of README.md (a test fails until they agree).
"""

from __future__ import annotations

from collections import Counter

from coterie.demo.data import COMPANIES, PARTNERSHIPS
from coterie.demo.network import DEMO_PASSWORD
from coterie.models.vocabulary import PartnershipStatus, Role


def demo_network_markdown() -> str:
    counts = Counter(p.status for p in PARTNERSHIPS)
    users = sum(len(spec.people) for spec in COMPANIES)
    lines = [
        "## Demo network",
        "",
        "`make run` loads a demo network into an empty database (`coterie demo load` does it on "
        "demand, `coterie demo logins` prints the logins again): "
        f"{len(COMPANIES)} fictional companies covering every partner type, {users} users "
        f"(3 to 6 per company: an admin, one or two managers, members) and {len(PARTNERSHIPS)} "
        f"partnerships: {counts[PartnershipStatus.ACTIVE]} active, "
        f"{counts[PartnershipStatus.PENDING]} pending (in both directions), "
        f"{counts[PartnershipStatus.DECLINED]} declined and "
        f"{counts[PartnershipStatus.REVOKED]} revoked. Every domain is under the reserved "
        "`.example` top-level domain, so no demo e-mail can reach anyone.",
        "",
        f"The password of every demo login is `{DEMO_PASSWORD}`. Logins are `first.last@domain`.",
        "",
        "| Company | Partner type | HQ | Admin login | A manager | A member |",
        "|---|---|---|---|---|---|",
    ]
    for spec in COMPANIES:
        admin, manager, member = (spec.email_of(spec.first(role)) for role in Role)
        lines.append(
            f"| {spec.name} | {spec.label} | {spec.hq_country} | `{admin}` | `{manager}` "
            f"| `{member}` |"
        )
    lines += [
        "",
        "Sign in as Nimbus Cloud's admin for the hyperscaler's view: ISV, SI and reseller "
        "partners, an invitation from Lattice Pay waiting for an answer and one sent to Ironbark "
        "Systems. Tandem People ended its partnership with Tidewater Managed Services, and "
        "Bastion Security declined Cerrado Tecnologia's invitation.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(demo_network_markdown(), end="")
