"""Network routes: signup, me, the directory, my company, partnerships, users, invitations."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from coterie.auth import preferences, service
from coterie.auth.dependencies import ApiActor
from coterie.auth.preferences import Preferences, PreferencesPatch
from coterie.deps import DB, AppSettings
from coterie.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from coterie.models import User
from coterie.models.vocabulary import Industry, PartnershipStatus, PartnerType, Region, TokenKind
from coterie.network import companies, graph, members, partnerships, signup
from coterie.network.schemas import (
    CompanyOut,
    CompanyPatch,
    InvitationAcceptIn,
    InvitationIn,
    InvitationOut,
    InvitationPreview,
    MeOut,
    MePatch,
    PartnershipIn,
    PartnershipOut,
    SignupIn,
    SignupOut,
    UserOut,
    UserPatch,
)

router = APIRouter()

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size")]
Cursor = Annotated[str | None, Query(max_length=500, description="From the previous page")]


def _signed_in(session: DB, settings: AppSettings, user: User) -> str:
    _token, secret = service.issue_token(
        session,
        user,
        TokenKind.LOGIN,
        name="login",
        ttl=timedelta(days=settings.login_token_ttl_days),
    )
    return secret


@router.post(
    "/signup",
    response_model=SignupOut,
    status_code=status.HTTP_201_CREATED,
    tags=["network"],
    summary="Sign up a new company and its first admin",
)
def signup_company(body: SignupIn, session: DB, settings: AppSettings) -> SignupOut:
    company, user = signup.signup(session, settings, body)
    token = _signed_in(session, settings, user)
    session.commit()
    return SignupOut(token=token, company_id=company.id, user_id=user.id)


@router.get(
    "/me", response_model=MeOut, tags=["me"], summary="Who I am, my company, my preferences"
)
def me(actor: ApiActor, session: DB) -> MeOut:
    return MeOut(
        user=members.user_out(actor.user),
        company=companies.to_out(actor.company, actor.company_id, {}),
        preferences=preferences.read(actor.user.preferences),
    )


@router.patch("/me", response_model=UserOut, tags=["me"], summary="Change my name or title")
def update_me(body: MePatch, actor: ApiActor, session: DB) -> UserOut:
    if body.name is not None:
        actor.user.name = body.name
    if body.title is not None:
        actor.user.title = body.title
    session.commit()
    return members.user_out(actor.user)


@router.get("/me/preferences", response_model=Preferences, tags=["me"])
def get_preferences(actor: ApiActor) -> Preferences:
    return preferences.read(actor.user.preferences)


@router.patch(
    "/me/preferences",
    response_model=Preferences,
    tags=["me"],
    summary="Change my preferences, e.g. hide_private_fields for screen sharing",
)
def update_preferences(body: PreferencesPatch, actor: ApiActor, session: DB) -> Preferences:
    actor.user.preferences = preferences.apply(actor.user.preferences, body)
    session.commit()
    return preferences.read(actor.user.preferences)


@router.get(
    "/companies",
    response_model=Page[CompanyOut],
    tags=["network"],
    summary="The network directory: public company profiles",
)
def directory(
    actor: ApiActor,
    session: DB,
    q: Annotated[
        str | None, Query(max_length=200, description="Name, domain or description")
    ] = None,
    industry: Industry | None = None,
    region: Region | None = None,
    partner_type: PartnerType | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[CompanyOut]:
    items, next_cursor = companies.search_directory(
        session,
        actor.company_id,
        q=q,
        industry=industry,
        region=region,
        partner_type=partner_type,
        limit=limit,
        cursor=cursor,
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/companies/mine", response_model=CompanyOut, tags=["network"])
def my_company(actor: ApiActor) -> CompanyOut:
    return companies.to_out(actor.company, actor.company_id, {})


@router.patch(
    "/companies/mine",
    response_model=CompanyOut,
    tags=["network"],
    summary="Edit my company profile",
)
def update_my_company(body: CompanyPatch, actor: ApiActor, session: DB) -> CompanyOut:
    company = companies.update_company(session, actor, body)
    session.commit()
    return companies.to_out(company, actor.company_id, {})


@router.get("/companies/{company_id}", response_model=CompanyOut, tags=["network"])
def company_profile(company_id: uuid.UUID, actor: ApiActor, session: DB) -> CompanyOut:
    company = companies.get_company(session, company_id)
    return companies.profiles_for(session, actor.company_id, [company])[0]


@router.get("/partnerships", response_model=Page[PartnershipOut], tags=["partnerships"])
def list_partnerships(
    actor: ApiActor,
    session: DB,
    status_filter: Annotated[PartnershipStatus | None, Query(alias="status")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[PartnershipOut]:
    items, next_cursor = partnerships.list_for(
        session, actor, status=status_filter, limit=limit, cursor=cursor
    )
    return Page(
        items=[partnerships.to_out(p, actor.company_id) for p in items], next_cursor=next_cursor
    )


@router.post(
    "/partnerships",
    response_model=PartnershipOut,
    status_code=status.HTTP_201_CREATED,
    tags=["partnerships"],
    summary="Invite a company to partner",
)
def request_partnership(
    body: PartnershipIn, actor: ApiActor, session: DB, settings: AppSettings
) -> PartnershipOut:
    partnership = partnerships.request(session, settings, actor, body.company_id, body.message)
    session.commit()
    return partnerships.to_out(partnership, actor.company_id)


@router.get("/partnerships/{partnership_id}", response_model=PartnershipOut, tags=["partnerships"])
def get_partnership(partnership_id: uuid.UUID, actor: ApiActor, session: DB) -> PartnershipOut:
    return partnerships.to_out(
        partnerships.get_for(session, actor, partnership_id), actor.company_id
    )


def _transition(name: str, summary: str) -> None:
    action = getattr(partnerships, name)

    def route(partnership_id: uuid.UUID, actor: ApiActor, session: DB) -> PartnershipOut:
        partnership = action(session, actor, partnership_id)
        session.commit()
        return partnerships.to_out(partnership, actor.company_id)

    route.__name__ = f"{name}_partnership"
    router.add_api_route(
        f"/partnerships/{{partnership_id}}/{name}",
        route,
        methods=["POST"],
        response_model=PartnershipOut,
        tags=["partnerships"],
        summary=summary,
    )


_transition("accept", "The invited company accepts")
_transition("decline", "The invited company declines")
_transition("revoke", "Either side ends the partnership (or the inviter withdraws)")


@router.get(
    "/network/graph",
    response_model=graph.NetworkGraph,
    tags=["partnerships"],
    summary="My collaboration graph: my partners, and records shared between us that I can see",
    description=(
        "Nodes are my company and my active or pending partners; an edge between two of them "
        "counts the records I can see on which both are active participants (per kind in "
        "`by_kind`). Records I cannot see are never counted."
    ),
)
def network_graph(actor: ApiActor, session: DB) -> graph.NetworkGraph:
    return graph.build(session, actor.principal, actor.company)


@router.get("/users", response_model=Page[UserOut], tags=["users"], summary="My company's users")
def list_users(
    actor: ApiActor, session: DB, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[UserOut]:
    items, next_cursor = members.list_users(session, actor, limit=limit, cursor=cursor)
    return Page(items=[members.user_out(u) for u in items], next_cursor=next_cursor)


@router.get("/users/{user_id}", response_model=UserOut, tags=["users"])
def get_user(user_id: uuid.UUID, actor: ApiActor, session: DB) -> UserOut:
    return members.user_out(members.get_user(session, actor, user_id))


@router.patch(
    "/users/{user_id}",
    response_model=UserOut,
    tags=["users"],
    summary="Change a colleague's role or (de)activate them (admins)",
)
def update_user(user_id: uuid.UUID, body: UserPatch, actor: ApiActor, session: DB) -> UserOut:
    user = members.update_user(session, actor, user_id, role=body.role, is_active=body.is_active)
    session.commit()
    return members.user_out(user)


@router.get("/invitations", response_model=Page[InvitationOut], tags=["invitations"])
def list_invitations(
    actor: ApiActor, session: DB, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[InvitationOut]:
    items, next_cursor = members.list_invitations(session, actor, limit=limit, cursor=cursor)
    return Page(items=[members.invitation_out(i, session) for i in items], next_cursor=next_cursor)


@router.post(
    "/invitations",
    response_model=InvitationOut,
    status_code=status.HTTP_201_CREATED,
    tags=["invitations"],
    summary="Invite a colleague by e-mail",
)
def invite(
    body: InvitationIn, actor: ApiActor, session: DB, settings: AppSettings
) -> InvitationOut:
    invitation = members.invite(session, settings, actor, str(body.email), body.role)
    session.commit()
    return members.invitation_out(invitation, session)


@router.delete(
    "/invitations/{invitation_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["invitations"]
)
def revoke_invitation(invitation_id: uuid.UUID, actor: ApiActor, session: DB) -> Response:
    members.revoke_invitation(session, actor, invitation_id)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/invitations/preview",
    response_model=InvitationPreview,
    tags=["invitations"],
    summary="What an invitation link is for (no authentication)",
)
def preview_invitation(
    session: DB, settings: AppSettings, token: Annotated[str, Query(max_length=1000)]
) -> InvitationPreview:
    return members.preview(session, settings, token)


@router.post(
    "/invitations/accept",
    response_model=SignupOut,
    status_code=status.HTTP_201_CREATED,
    tags=["invitations"],
    summary="Accept an invitation: create my account (no authentication)",
)
def accept_invitation(body: InvitationAcceptIn, session: DB, settings: AppSettings) -> SignupOut:
    user = members.accept(session, settings, body)
    token = _signed_in(session, settings, user)
    session.commit()
    return SignupOut(token=token, company_id=user.company_id, user_id=user.id)
