"""Sign-in pages: log in, log out, sign up a company, and reset a forgotten password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError

from coterie.auth import service
from coterie.auth.schemas import PasswordResetRequest
from coterie.deps import DB, AppSettings, ClientAddress
from coterie.kit.problems import Problem
from coterie.models import Company, User
from coterie.models.vocabulary import Industry
from coterie.network import signup as signup_service
from coterie.network.schemas import SignupIn
from coterie.web import csrf, sessions
from coterie.web.forms import FORM_ERROR, FormInput, errors_from_problem, errors_from_validation
from coterie.web.sessions import MaybeActor, safe_next
from coterie.web.submit import submit
from coterie.web.templating import redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])

NextParam = Annotated[str | None, Query(alias="next")]
TokenParam = Annotated[str, Query()]
MAX_EMAIL_LENGTH = 320
MAX_PASSWORD_LENGTH = 256


# -- log in and out ---------------------------------------------------------------------------


def _login_form(
    request: Request,
    next_path: str,
    *,
    email: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "auth/login.html",
        {"next": next_path, "values": {"email": email}, "errors": errors or {}},
        status_code=status_code,
        headers=headers,
    )


@router.get("/login")
def login_page(request: Request, actor: MaybeActor, next_path: NextParam = None) -> Response:
    if actor is not None:
        return redirect(request, safe_next(next_path))
    return _login_form(request, safe_next(next_path, ""))


@router.post("/login")
def login(
    request: Request,
    session: DB,
    settings: AppSettings,
    address: ClientAddress,
    form: FormInput,
) -> Response:
    email = form.text("email")
    password = form.text("password", strip=False)
    next_path = safe_next(form.text("next"), "")
    errors: dict[str, str] = {}
    if not email:
        errors["email"] = "Enter your e-mail address."
    if not password:
        errors["password"] = "Enter your password."  # noqa: S105 (a message)
    if errors:
        return _login_form(request, next_path, email=email, errors=errors, status_code=422)
    if len(email) > MAX_EMAIL_LENGTH or len(password) > MAX_PASSWORD_LENGTH:
        errors[FORM_ERROR] = service.bad_credentials().detail
        return _login_form(request, next_path, email="", errors=errors, status_code=400)

    def refused(problem: Problem) -> Response:
        status = 400 if problem.status == 401 else problem.status
        return _login_form(
            request,
            next_path,
            email=email,
            errors={FORM_ERROR: problem.detail},
            status_code=status,
            headers={k: v for k, v in problem.headers.items() if k == "Retry-After"},
        )

    return submit(
        session,
        lambda: service.login(session, settings, email, password, address),
        done=lambda user: sessions.signed_in(request, session, settings, user, next_path or "/"),
        refused=refused,
        commit=False,  # the session token is part of the same unit of work
    )


@router.post("/logout")
def logout(request: Request, session: DB, settings: AppSettings, actor: MaybeActor) -> Response:
    if actor is not None:
        service.end_token(session, actor.token)
        session.commit()
    response = redirect(request, "/login", "You are signed out.", "info")
    sessions.clear(response, settings)
    return response


# -- sign up ----------------------------------------------------------------------------------

SIGNUP_FIELDS = ("company.name", "company.domain", "company.industry", "user.name", "user.email")
SIGNUP_SLUG_FIELDS = {"email-taken": "user.email", "company-domain-taken": "company.domain"}


def _signup_form(
    request: Request,
    settings: AppSettings,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "auth/signup.html",
        {
            "values": values or {},
            "errors": errors or {},
            "industries": list(Industry),
            "signup_enabled": settings.signup_enabled,
        },
        status_code=status_code,
    )


@router.get("/signup")
def signup_page(request: Request, settings: AppSettings, actor: MaybeActor) -> Response:
    if actor is not None:
        return redirect(request, "/")
    return _signup_form(request, settings)


@router.post("/signup")
def signup(request: Request, session: DB, settings: AppSettings, form: FormInput) -> Response:
    if not settings.signup_enabled:
        return _signup_form(request, settings, status_code=403)
    values = {name: form.text(name) for name in SIGNUP_FIELDS}
    data = {
        "company": {
            "name": values["company.name"],
            "domain": values["company.domain"],
            "industry": values["company.industry"] or None,
        },
        "user": {
            "name": values["user.name"],
            "email": values["user.email"],
            "password": form.text("user.password", strip=False),
        },
    }
    try:
        body = SignupIn.model_validate(data)
    except ValidationError as exc:
        errors = errors_from_validation(exc)
        return _signup_form(request, settings, values=values, errors=errors, status_code=422)

    def signed_up(made: tuple[Company, User]) -> Response:
        company, user = made
        message = f"Welcome to Coterie! {company.name} is now on the network."
        return sessions.signed_in(request, session, settings, user, "/", message)

    def refused(problem: Problem) -> Response:
        errors = errors_from_problem(problem, SIGNUP_SLUG_FIELDS)
        return _signup_form(
            request, settings, values=values, errors=errors, status_code=problem.status
        )

    return submit(
        session,
        lambda: signup_service.signup(session, settings, body),
        done=signed_up,
        refused=refused,
        commit=False,  # the session token is part of the same unit of work
    )


# -- password reset ---------------------------------------------------------------------------


@router.get("/password-reset")
def password_reset_page(request: Request, actor: MaybeActor) -> Response:
    return render(request, "auth/password_reset.html")


@router.post("/password-reset")
def request_password_reset(
    request: Request,
    session: DB,
    settings: AppSettings,
    actor: MaybeActor,
    form: FormInput,
    address: ClientAddress,
) -> Response:
    email = form.text("email")
    try:
        body = PasswordResetRequest(email=email)
    except ValidationError:
        return render(
            request,
            "auth/password_reset.html",
            {
                "values": {"email": email},
                "errors": {"email": "Enter an e-mail address such as name@company.com."},
            },
            status_code=422,
        )
    service.request_password_reset(session, settings, str(body.email), address=address)
    session.commit()
    return render(request, "auth/password_reset_sent.html", {"email": str(body.email)})


def _link_invalid(request: Request, problem: Problem) -> Response:
    return render(
        request, "auth/link_invalid.html", {"problem": problem}, status_code=problem.status
    )


@router.get("/password-reset/confirm")
def password_reset_confirm_page(
    request: Request,
    session: DB,
    settings: AppSettings,
    actor: MaybeActor,
    token: TokenParam = "",
) -> Response:
    try:
        user = service.password_reset_user(session, settings, token)
    except Problem as problem:
        return _link_invalid(request, problem)
    return render(
        request, "auth/password_reset_confirm.html", {"token": token, "email": user.email}
    )


@router.post("/password-reset/confirm")
def confirm_password_reset(
    request: Request,
    session: DB,
    settings: AppSettings,
    address: ClientAddress,
    actor: MaybeActor,
    form: FormInput,
) -> Response:
    token = form.text("token")
    password = form.text("password", strip=False)
    try:
        user = service.password_reset_user(session, settings, token)
    except Problem as problem:
        return _link_invalid(request, problem)
    email = user.email  # shown again if the change is refused (the refusal rolls back)
    errors: dict[str, str] = {}
    if not password:
        errors["password"] = "Choose a new password."  # noqa: S105 (a message)
    elif len(password) > MAX_PASSWORD_LENGTH:
        errors["password"] = f"Must be at most {MAX_PASSWORD_LENGTH} characters."
    elif password != form.text("password_confirm", strip=False):
        errors["password_confirm"] = "The two passwords are not the same."  # noqa: S105 (a message)

    def again(errors: dict[str, str]) -> Response:
        return render(
            request,
            "auth/password_reset_confirm.html",
            {"token": token, "email": email, "errors": errors},
            status_code=422,
        )

    if errors:
        return again(errors)

    def refused(problem: Problem) -> Response:
        if not problem.errors:
            return _link_invalid(request, problem)
        return again(errors_from_problem(problem))

    def changed(_: object) -> Response:
        response = redirect(
            request, "/login", "Your password was changed. Sign in with your new password."
        )
        sessions.clear(response, settings)
        return response

    return submit(
        session,
        lambda: service.confirm_password_reset(session, settings, token, password, address=address),
        done=changed,
        refused=refused,
    )
