"""Companies: creating and editing profiles, and the network directory search."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth.principal import Actor
from coterie.kit.pagination import SortKey, paginate
from coterie.kit.problems import Problem, conflict, not_found
from coterie.models import Company, CompanyPartnerType, CompanyRegion, Partnership
from coterie.models.vocabulary import PartnershipStatus, Role
from coterie.network.schemas import (
    CompanyIn,
    CompanyOut,
    CompanyPatch,
    PartnershipSummary,
)

NAME_KEY_LENGTH = 200  # the length of companies.name_key
DIRECTORY_ORDER = (SortKey(Company.name_key), SortKey(Company.id, is_uuid=True))


def name_key(name: str) -> str:
    """The sort and search form of a name; casefolding can lengthen it ("ß" -> "ss")."""
    return name.casefold()[:NAME_KEY_LENGTH]


def domain_taken(session: Session, domain: str) -> bool:
    return session.scalar(select(exists().where(Company.domain == domain))) or False


def domain_conflict(domain: str) -> Problem:
    return conflict(
        "company-domain-taken", f"A company with the domain {domain} is already on the network."
    )


def create_company(session: Session, data: CompanyIn) -> Company:
    if domain_taken(session, data.domain):
        raise domain_conflict(data.domain)
    company = Company(
        name=data.name,
        name_key=name_key(data.name),
        domain=data.domain,
        industry=data.industry,
        hq_country=data.hq_country,
        description=data.description,
        size=data.size,
        currency=data.currency,
        website=data.website,
    )
    company.set_regions(list(data.regions))
    company.set_partner_types(list(data.partner_types))
    session.add(company)
    session.flush()
    return company


def update_company(session: Session, actor: Actor, patch: CompanyPatch) -> Company:
    actor.require_role(Role.ADMIN, "edit the company profile")
    company = actor.company
    changes = patch.model_dump(exclude_unset=True)
    for key, value in changes.items():
        if key == "regions":
            company.set_regions(list(value or []))
        elif key == "partner_types":
            company.set_partner_types(list(value or []))
        elif key == "name" and value is not None:
            company.name, company.name_key = value, name_key(value)
        elif key in {"name", "currency", "description"} and value is None:
            continue  # required attributes: null means "leave as is"
        else:
            setattr(company, key, value)
    audit.record_as(
        session,
        company_id=company.id,
        actor_user_id=actor.user_id,
        action="company.updated",
        subject_type="company",
        subject_id=company.id,
        fields=sorted(changes),
    )
    session.flush()
    return company


def names(session: Session, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    """Company id -> name for the given ids (network directory data: every company may read it)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(Company.id, Company.name).where(Company.id.in_(wanted)))
    return {row[0]: row[1] for row in rows}


def get_company(session: Session, company_id: uuid.UUID) -> Company:
    """A public profile: every company on the network is listed in the directory."""
    company = session.get(Company, company_id)
    if company is None:
        raise not_found("company")
    return company


def _open_partnerships_of(session: Session, viewer_id: uuid.UUID) -> dict[uuid.UUID, Partnership]:
    rows = session.scalars(
        select(Partnership).where(
            or_(
                Partnership.requester_company_id == viewer_id,
                Partnership.recipient_company_id == viewer_id,
            ),
            Partnership.status.in_([PartnershipStatus.PENDING, PartnershipStatus.ACTIVE]),
        )
    )
    return {p.other_company(viewer_id).id: p for p in rows}


def to_out(
    company: Company, viewer_id: uuid.UUID, partnerships: dict[uuid.UUID, Partnership]
) -> CompanyOut:
    link = partnerships.get(company.id)
    summary = None
    if link is not None:
        direction = "outgoing" if link.requester_company_id == viewer_id else "incoming"
        summary = PartnershipSummary(id=link.id, status=link.status, direction=direction)
    return CompanyOut(
        id=company.id,
        name=company.name,
        domain=company.domain,
        industry=company.industry,
        regions=company.regions,
        hq_country=company.hq_country,
        description=company.description,
        size=company.size,
        partner_types=company.partner_types,
        currency=company.currency,
        website=company.website,
        partnership=summary,
    )


def profiles_for(
    session: Session, viewer_id: uuid.UUID, companies: list[Company]
) -> list[CompanyOut]:
    partnerships = _open_partnerships_of(session, viewer_id)
    return [to_out(c, viewer_id, partnerships) for c in companies]


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def directory_query(
    *,
    q: str | None,
    industry: str | None,
    region: str | None,
    partner_type: str | None,
    exclude: uuid.UUID | None = None,
) -> Select[Company]:
    statement = select(Company)
    term = (q or "").replace("\x00", "").strip()  # no stored text holds NUL (PostgreSQL refuses it)
    if term:
        folded = _like(term.casefold())  # the same folding as name_key
        lowered = _like(term.lower())  # the same folding as SQL lower()
        statement = statement.where(
            or_(
                Company.name_key.like(folded, escape="\\"),
                Company.domain.like(folded, escape="\\"),
                func.lower(Company.description).like(lowered, escape="\\"),
            )
        )
    if industry:
        statement = statement.where(Company.industry == industry)
    if region:
        statement = statement.where(
            exists().where(CompanyRegion.company_id == Company.id, CompanyRegion.region == region)
        )
    if partner_type:
        statement = statement.where(
            exists().where(
                CompanyPartnerType.company_id == Company.id,
                CompanyPartnerType.partner_type == partner_type,
            )
        )
    if exclude is not None:
        statement = statement.where(Company.id != exclude)
    return statement


def search_directory(
    session: Session,
    viewer_id: uuid.UUID,
    *,
    q: str | None = None,
    industry: str | None = None,
    region: str | None = None,
    partner_type: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[CompanyOut], str | None]:
    statement = directory_query(q=q, industry=industry, region=region, partner_type=partner_type)
    companies, next_cursor = paginate(
        session,
        statement,
        DIRECTORY_ORDER,
        limit=limit,
        cursor=cursor,
        key_of=lambda c: (c.name_key, c.id),
    )
    return profiles_for(session, viewer_id, companies), next_cursor
