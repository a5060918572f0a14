"""The documentation site's "Demo network" page, rendered from the demo data so the two never
disagree.

The MkDocs hook `docs/hooks/generated.py` puts `demo_network_markdown()` in place of the
`<!-- coterie:demo-network -->` marker of `docs/demo-network.md` at every build; nothing is pasted
by hand. `.venv/bin/python -m coterie.demo.docs` prints the page.
"""

from __future__ import annotations

from collections import Counter

from coterie.demo import cosell
from coterie.demo.data import COMPANIES, PARTNERSHIPS
from coterie.demo.network import DEMO_PASSWORD
from coterie.fields.definitions import STANDARD_FIELDS
from coterie.models.vocabulary import PartnershipStatus, Role


def demo_network_markdown() -> str:
    counts = Counter(p.status for p in PARTNERSHIPS)
    users = sum(len(spec.people) for spec in COMPANIES)
    lines = [
        "# Demo network",
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
        *_cosell_lines(),
    ]
    return "\n".join(lines)


def _shares(domain: str, fields: dict[str, str | tuple[str, ...]]) -> str:
    """E.g. "**Relay CRM**: amount and stage with every company on the record; close date
    with Nimbus Cloud only"."""
    names = {spec.domain: spec.name for spec in COMPANIES}
    by_audience: dict[str, list[str]] = {}
    for key, audience in fields.items():
        who = (
            "every company on the record"
            if audience == "participants"
            else " and ".join(names[d] for d in audience) + " only"
        )
        by_audience.setdefault(who, []).append(STANDARD_FIELDS[key].label.lower())
    parts = [
        f"{', '.join(keys[:-1]) + ' and ' if len(keys) > 1 else ''}{keys[-1]} with {who}"
        for who, keys in by_audience.items()
    ]
    return f"- **{names[domain]}**: " + "; ".join(parts)


def _cosell_lines() -> list[str]:
    lines = [
        "## Co-selling in the demo",
        "",
        f"The demo partners also sell together. Nimbus Cloud hosts the partner program "
        f"*{cosell.PROGRAM_TITLE}* (Relay CRM, Meridian Consulting Group and Bastion Security "
        "on it) with a joint workflow made from the built-in joint solution template, and owns "
        f"the joint sales plan *{cosell.PLAN_TITLE}* in it, with Relay CRM and Meridian: joint "
        "and company goals (pipeline value, closed revenue, lead and opportunity counts) with "
        f"live progress, the target accounts *{cosell.HARBOR}* (with a joint account plan) and "
        f"*{cosell.PINECREST}*, and its pipeline of leads and opportunities. Relay CRM runs "
        "its own opportunities through the standard pipeline workflow.",
        "",
        "Each company keeps its own amount, stage, close date and forecast on a shared "
        "opportunity, and its opportunity template shares some of them (the rest is private):",
        "",
        *(_shares(domain, fields) for domain, fields in cosell.TEMPLATES.items()),
        "",
        "Nimbus nominated leads to its partners: Relay accepted two and converted one into an "
        "opportunity, Quarry Analytics rejected one with a reason, and Meridian has not "
        "answered yet. Meridian's deal registration with Relay is approved; Tidewater's with "
        "Bastion waits for approval. People comment and @mention each other, and a move of a "
        "joint solution waits for Nimbus's approval. The story spans the last four months and "
        "this week (dates are relative to the day the demo is loaded), so timelines, "
        "notifications and each plan's weekly pipeline review (`/plans/{id}/review`) have "
        "history.",
        "",
        "| Sign in as | To see |",
        "|---|---|",
    ]
    lines += [f"| `{email}` | {what} |" for email, what in cosell.TOUR]
    lines.append("")
    return lines


if __name__ == "__main__":
    print(demo_network_markdown(), end="")
