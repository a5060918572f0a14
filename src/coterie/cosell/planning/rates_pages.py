"""Settings, Exchange rates: my company's dated rates, listed, added and deleted by its admins
(`coterie.cosell.planning.rates` does the work)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.cosell.planning import rates
from coterie.cosell.schemas import RateIn
from coterie.db import utcnow
from coterie.deps import DB
from coterie.kit.problems import Problem
from coterie.web import csrf
from coterie.web.forms import FORM_ERROR, FormInput, input_errors
from coterie.web.paths import parse_id
from coterie.web.sessions import PageActor
from coterie.web.submit import flash_back, flash_done, problem_detail, submit
from coterie.web.templating import redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])


def _rates_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "cosell/exchange_rates.html",
        {
            "tab": "exchange-rates",
            "rates": rates.list_rates(session, actor.company_id),
            "own_currency": actor.company.currency,
            "today": utcnow().date().isoformat(),
            "values": values or {},
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/settings/exchange-rates")
def exchange_rates_page(request: Request, session: DB, actor: PageActor) -> Response:
    return _rates_page(request, session, actor)


@router.post("/settings/exchange-rates")
def save_exchange_rate(
    request: Request, session: DB, actor: PageActor, form: FormInput
) -> Response:
    inputs = {key: form.text(key) for key in ("currency", "rate", "valid_from")}
    try:
        entry = RateIn.model_validate(inputs | {"currency": inputs["currency"].upper()})
    except ValidationError as exc:
        return _rates_page(
            request, session, actor, values=inputs, errors=input_errors(exc), status_code=422
        )

    def refused(problem: Problem) -> Response:
        errors = {
            str(e.get("path", "")).split(".")[-1]: str(e.get("message", ""))
            for e in problem.errors or []
        } or {FORM_ERROR: problem.detail}
        return _rates_page(
            request, session, actor, values=inputs, errors=errors, status_code=problem.status
        )

    return submit(
        session,
        lambda: rates.save_rates(session, actor, [entry]),
        done=lambda _: redirect(
            request,
            "/settings/exchange-rates",
            f"1 {entry.currency} = {entry.rate} {actor.company.currency} from {entry.valid_from}.",
        ),
        refused=refused,
    )


@router.post("/settings/exchange-rates/{rate_id}/delete")
def delete_exchange_rate(request: Request, session: DB, actor: PageActor, rate_id: str) -> Response:
    return submit(
        session,
        lambda: rates.delete_rate(session, actor, parse_id(rate_id, "exchange rate")),
        done=flash_done(request, "/settings/exchange-rates", "Rate deleted."),
        refused=flash_back(request, "/settings/exchange-rates", problem_detail),
    )
