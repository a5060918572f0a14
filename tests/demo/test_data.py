"""The demo data itself: complete, realistic and consistent, before it touches a database."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from coterie.demo.data import (
    COMPANIES,
    PARTNERSHIPS,
    CompanySpec,
    PartnershipSpec,
    email_local_part,
)
from coterie.demo.docs import demo_network_markdown
from coterie.demo.network import DEMO_PASSWORD
from coterie.models.vocabulary import PartnershipStatus, PartnerType, Role

BY_DOMAIN = {spec.domain: spec for spec in COMPANIES}
OPEN = {PartnershipStatus.PENDING, PartnershipStatus.ACTIVE}
README = Path(__file__).resolve().parents[2] / "README.md"
DEMO_PAGE = Path(__file__).resolve().parents[2] / "docs" / "demo-network.md"


def answered_days_ago(link: PartnershipSpec) -> int:
    return link.requested_days_ago - link.answered_after_days


def test_at_least_twelve_companies_cover_every_partner_type() -> None:
    assert len(COMPANIES) >= 12
    present = {t for spec in COMPANIES for t in spec.partner_types}
    assert present == set(PartnerType)
    assert sum(PartnerType.HYPERSCALER in s.partner_types for s in COMPANIES) == 1
    assert sum(PartnerType.ISV in s.partner_types for s in COMPANIES) >= 4
    assert sum(PartnerType.SI in s.partner_types for s in COMPANIES) >= 3


def test_names_and_domains_are_unique_and_fictional() -> None:
    assert len({s.name for s in COMPANIES}) == len(COMPANIES)
    assert len({s.domain for s in COMPANIES}) == len(COMPANIES)
    for spec in COMPANIES:
        assert spec.domain.endswith(".example"), spec.domain
        assert spec.website == f"https://www.{spec.domain}"


@pytest.mark.parametrize("spec", COMPANIES, ids=lambda s: s.domain)
def test_each_profile_passes_signup_validation(spec: CompanySpec) -> None:
    profile = spec.profile()
    assert profile.domain == spec.domain
    assert profile.hq_country == spec.hq_country
    assert len(spec.description) >= 60


def test_currencies_are_local() -> None:
    currencies = {s.currency for s in COMPANIES}
    assert {"USD", "EUR", "GBP", "JPY"} <= currencies


@pytest.mark.parametrize("spec", COMPANIES, ids=lambda s: s.domain)
def test_each_company_has_three_to_six_people_with_a_role_mix(spec: CompanySpec) -> None:
    roles = Counter(person.role for person in spec.people)
    assert 3 <= len(spec.people) <= 6
    assert roles[Role.ADMIN] == 1
    assert 1 <= roles[Role.MANAGER] <= 2
    assert roles[Role.MEMBER] >= 1
    assert spec.people[0].role == Role.ADMIN  # the admin signed the company up
    for person in spec.people:
        assert person.title
        assert re.fullmatch(r"[a-z]+\.[a-z]+@" + re.escape(spec.domain), spec.email_of(person))


def test_every_login_is_unique() -> None:
    emails = [spec.email_of(person) for spec in COMPANIES for person in spec.people]
    assert len(set(emails)) == len(emails)


@pytest.mark.parametrize(
    ("name", "local_part"),
    [
        ("Dana Whitfield", "dana.whitfield"),
        ("João Pereira", "joao.pereira"),
        ("Lena Schäfer", "lena.schaefer"),
        ("Sanne de Vries", "sanne.devries"),
        ("Ethan MacDonald", "ethan.macdonald"),
        ("Siobhán O'Connor", "siobhan.oconnor"),
    ],
)
def test_email_local_part(name: str, local_part: str) -> None:
    assert email_local_part(name) == local_part


def test_every_partnership_status_appears() -> None:
    statuses = Counter(link.status for link in PARTNERSHIPS)
    assert set(statuses) == set(PartnershipStatus)
    assert statuses[PartnershipStatus.ACTIVE] >= 20
    assert statuses[PartnershipStatus.PENDING] >= 3


def test_partnerships_join_known_companies_once_per_open_pair() -> None:
    open_pairs: list[frozenset[str]] = []
    for link in PARTNERSHIPS:
        assert link.requester in BY_DOMAIN
        assert link.recipient in BY_DOMAIN
        assert link.requester != link.recipient
        if link.status in OPEN:
            open_pairs.append(frozenset((link.requester, link.recipient)))
    assert len(set(open_pairs)) == len(open_pairs)


def test_pending_partnerships_go_both_ways_for_the_hyperscaler() -> None:
    (hyperscaler,) = [s for s in COMPANIES if PartnerType.HYPERSCALER in s.partner_types]
    pending = [link for link in PARTNERSHIPS if link.status == PartnershipStatus.PENDING]
    assert any(link.requester == hyperscaler.domain for link in pending)
    assert any(link.recipient == hyperscaler.domain for link in pending)


def test_the_hyperscaler_partners_with_most_isvs_and_sis() -> None:
    (hyperscaler,) = [s for s in COMPANIES if PartnerType.HYPERSCALER in s.partner_types]
    partners = {
        (link.recipient if link.requester == hyperscaler.domain else link.requester)
        for link in PARTNERSHIPS
        if link.status == PartnershipStatus.ACTIVE
        and hyperscaler.domain in (link.requester, link.recipient)
    }
    for kind in (PartnerType.ISV, PartnerType.SI):
        of_kind = {s.domain for s in COMPANIES if kind in s.partner_types}
        assert len(partners & of_kind) > len(of_kind) / 2, kind


@pytest.mark.parametrize("link", PARTNERSHIPS, ids=lambda p: f"{p.requester}-{p.recipient}")
def test_each_partnership_history_is_in_order(link: PartnershipSpec) -> None:
    joined = min(
        BY_DOMAIN[link.requester].joined_days_ago, BY_DOMAIN[link.recipient].joined_days_ago
    )
    assert 0 < link.requested_days_ago < joined, "requested before both companies joined"
    assert link.message
    if link.status == PartnershipStatus.PENDING:
        assert link.answered_after_days == 0
        return
    assert link.answered_after_days >= 1
    assert answered_days_ago(link) >= 0
    if link.status == PartnershipStatus.REVOKED:
        assert link.ended_by in (link.requester, link.recipient)
        assert link.ended_days_ago is not None
        assert 0 <= link.ended_days_ago < answered_days_ago(link)
    else:
        assert link.ended_by is None
        assert link.ended_days_ago is None


def test_the_docs_page_is_generated_from_the_data() -> None:
    """docs/demo-network.md is the marker the MkDocs hook replaces with demo_network_markdown()
    (tests/test_docs.py checks the hook), so the published page is the data's own rendering."""
    assert DEMO_PAGE.read_text().strip() == "<!-- coterie:demo-network -->"
    assert demo_network_markdown().startswith("# Demo network\n")


def test_the_readme_demo_logins_are_real() -> None:
    """The README's few demo logins, the password and the company count agree with the data."""
    text = README.read_text()
    section = text.split("## Demo logins\n", 1)[1].split("\n## ", 1)[0]
    logins = {spec.email_of(person) for spec in COMPANIES for person in spec.people}
    shown = re.findall(r"`([^`@\s]+@[^`\s]+)`", section)
    assert shown
    assert set(shown) <= logins
    assert f"`{DEMO_PASSWORD}`" in section
    assert f"{len(COMPANIES)} fictional companies" in section
