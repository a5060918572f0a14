"""Authentication routes: tokens, logout, password reset and change, personal API tokens."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import APIRouter, Response, status

from coterie.auth import service
from coterie.auth.dependencies import ApiActor
from coterie.auth.schemas import (
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    PersonalTokenCreated,
    PersonalTokenIn,
    PersonalTokenOut,
    TokenRequest,
    TokenResponse,
)
from coterie.deps import DB, AppSettings, ClientAddress
from coterie.models import AuthToken
from coterie.models.vocabulary import TokenKind

router = APIRouter(tags=["authentication"])


def token_out(token: AuthToken) -> PersonalTokenOut:
    return PersonalTokenOut(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
    )


@router.post(
    "/auth/token", response_model=TokenResponse, summary="Log in: exchange a password for a token"
)
def create_login_token(
    body: TokenRequest, session: DB, settings: AppSettings, address: ClientAddress
) -> TokenResponse:
    user = service.login(session, settings, body.email, body.password, address)
    token, secret = service.issue_token(
        session,
        user,
        TokenKind.LOGIN,
        name="login",
        ttl=timedelta(days=settings.login_token_ttl_days),
    )
    session.commit()
    return TokenResponse(access_token=secret, expires_at=token.expires_at)


@router.post(
    "/auth/logout", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke the token used"
)
def logout(actor: ApiActor, session: DB) -> Response:
    service.end_token(session, actor.token)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/auth/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    summary="E-mail a password reset link (same answer whether or not the account exists)",
)
def request_password_reset(
    body: PasswordResetRequest, session: DB, settings: AppSettings, address: ClientAddress
) -> dict[str, str]:
    service.request_password_reset(session, settings, str(body.email), address=address)
    session.commit()
    return {"detail": "If that address has an account, a reset link is on its way."}


@router.post(
    "/auth/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set a new password with a reset link's token; signs out every session",
)
def confirm_password_reset(
    body: PasswordResetConfirm, session: DB, settings: AppSettings, address: ClientAddress
) -> Response:
    service.confirm_password_reset(session, settings, body.token, body.password, address=address)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change my password; signs out every login token and session",
)
def change_password(
    body: PasswordChange,
    actor: ApiActor,
    session: DB,
    settings: AppSettings,
    address: ClientAddress,
) -> Response:
    service.change_password(
        session,
        actor,
        body.current_password,
        body.new_password,
        settings=settings,
        address=address,
    )
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/tokens", response_model=list[PersonalTokenOut], summary="My personal API tokens")
def list_tokens(actor: ApiActor, session: DB) -> list[PersonalTokenOut]:
    return [token_out(t) for t in service.list_personal_tokens(session, actor)]


@router.post(
    "/tokens",
    response_model=PersonalTokenCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Create a personal API token (the secret is shown once)",
)
def create_token(body: PersonalTokenIn, actor: ApiActor, session: DB) -> PersonalTokenCreated:
    ttl = timedelta(days=body.expires_in_days) if body.expires_in_days else None
    token, secret = service.create_personal_token(session, actor, body.name, ttl)
    session.commit()
    return PersonalTokenCreated(**token_out(token).model_dump(), token=secret)


@router.delete(
    "/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke a personal token"
)
def revoke_token(token_id: uuid.UUID, actor: ApiActor, session: DB) -> Response:
    service.revoke_token(session, actor, token_id)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
