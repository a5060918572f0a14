"""The deliveries a company's admins watch: the API and the settings page (`deliveries`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from coterie.auth.dependencies import ApiActor
from coterie.deps import DB
from coterie.network import deliveries
from coterie.network.deliveries import DeliveryOut, Trouble
from coterie.web import csrf
from coterie.web.paths import parse_id
from coterie.web.sessions import PageActor
from coterie.web.submit import flash_back, flash_done, problem_detail, submit
from coterie.web.templating import render

api = APIRouter(tags=["deliveries"])
pages = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])


@api.get(
    "/deliveries",
    response_model=list[DeliveryOut],
    summary="My company's e-mail that failed (waiting for a retry) or went dead (admins)",
)
def list_deliveries(
    session: DB,
    actor: ApiActor,
    state: Annotated[Trouble | None, Query(description="Only `failed` or only `dead`")] = None,
) -> list[DeliveryOut]:
    return deliveries.troubled(session, actor, state)


@api.post(
    "/deliveries/{delivery_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a failed or dead delivery again now (admins)",
)
def retry_delivery(session: DB, actor: ApiActor, delivery_id: uuid.UUID) -> Response:
    deliveries.retry(session, actor, delivery_id)
    session.commit()
    return Response(status_code=status.HTTP_202_ACCEPTED)


@pages.get("/settings/deliveries")
def deliveries_page(request: Request, session: DB, actor: PageActor) -> Response:
    return render(
        request,
        "settings/deliveries.html",
        {
            "nav": "settings",
            "tab": "deliveries",
            "rows": deliveries.troubled(session, actor),
        },
    )


@pages.post("/settings/deliveries/{delivery_id}/retry")
def retry_page(request: Request, session: DB, actor: PageActor, delivery_id: str) -> Response:
    return submit(
        session,
        lambda: deliveries.retry(session, actor, parse_id(delivery_id, "delivery")),
        done=flash_done(request, "/settings/deliveries", "Sent again: it goes out in a moment."),
        refused=flash_back(request, "/settings/deliveries", problem_detail),
    )
