"""Pages of comments, the timeline and notifications.

The record page renders its activity panel (comment form + timeline) in its own response
(`record_panel`, registered with `coterie.records.page_panels`) and refreshes it with `hx-get`
of `/{plural}/{id}/activity`; everything here reads through `coterie.activity`'s services, which
go through the gate, so the panel shows exactly what the JSON timeline shows the same user.
Forms work with htmx (the panel is swapped in place) and without it (POST-redirect-GET).
The header's bell loads `/notifications/bell` the same way, so every page stays cheap.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from coterie.activity import comments, mentions, notifications, timeline
from coterie.activity.schemas import CommentIn
from coterie.attachments import pages as attachment_pages
from coterie.attachments import service as attachments
from coterie.attachments.subjects import SubjectRef
from coterie.auth.principal import Actor
from coterie.deps import DB
from coterie.fields.kinds import KINDS, KindInfo
from coterie.kit.problems import Problem
from coterie.records.page_panels import PanelContent
from coterie.records.presenters import multiline
from coterie.web import csrf
from coterie.web.forms import FORM_ERROR, FormInput, errors_from_validation, problem_message
from coterie.web.paths import parse_id
from coterie.web.sessions import PageActor
from coterie.web.submit import answer_only, raise_on, submit
from coterie.web.templating import is_htmx, redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])

TIMELINE_PAGE = 20
NOTIFICATIONS_PAGE = 50
Text = Annotated[str, Query(max_length=500)]
AUDIENCES = [("participants", "Everyone on this record"), ("company", "My company only (internal)")]


def _record_url(info: KindInfo, record_id: uuid.UUID) -> str:
    return f"/{info.plural}/{record_id}"


def _panel(
    request: Request,
    session: Session,
    actor: Actor,
    info: KindInfo,
    record_id: uuid.UUID,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    content = record_panel(session, actor, info, record_id)
    context = content.context | {
        "values": values or content.context["values"],
        "errors": errors or {},
        "notice": notice,
    }
    return render(request, content.template, context, status_code=status_code)


def record_panel(
    session: Session, actor: Actor, info: KindInfo, record_id: uuid.UUID
) -> PanelContent:
    """The activity panel (comment form and the first page of the timeline) of a record."""
    items, next_cursor = timeline.timeline(
        session, actor, info.kind.value, record_id, limit=TIMELINE_PAGE, cursor=None
    )
    return PanelContent(
        "activity/_panel.html",
        {
            "info": info,
            "record_id": record_id,
            "items": items,
            "next_cursor": next_cursor,
            "audiences": AUDIENCES,
            "values": {"audience": "participants"},
            "errors": {},
            "notice": None,
        },
    )


def _record_routes(info: KindInfo) -> APIRouter:
    routes = APIRouter()
    base = f"/{info.plural}/{{record_id}}"
    kind = info.kind.value

    @routes.get(base + "/activity")
    def panel(request: Request, session: DB, actor: PageActor, record_id: str) -> Response:
        rid = parse_id(record_id, kind)
        if not is_htmx(request):
            return redirect(request, _record_url(info, rid) + "#activity")
        return _panel(request, session, actor, info, rid)

    @routes.get(base + "/activity/older")
    def older(
        request: Request, session: DB, actor: PageActor, record_id: str, cursor: Text = ""
    ) -> Response:
        rid = parse_id(record_id, kind)
        items, next_cursor = timeline.timeline(
            session, actor, kind, rid, limit=TIMELINE_PAGE, cursor=cursor or None
        )
        return render(
            request,
            "activity/_items.html",
            {"info": info, "record_id": rid, "items": items, "next_cursor": next_cursor},
        )

    @routes.post(base + "/comments")
    def post_comment(
        request: Request, session: DB, actor: PageActor, form: FormInput, record_id: str
    ) -> Response:
        rid = parse_id(record_id, kind)
        values = {"body": multiline(form, "body"), "audience": form.text("audience")}
        try:
            data = CommentIn.model_validate(values)
        except ValidationError as exc:
            return _refused(request, session, actor, info, rid, values, errors_from_validation(exc))

        def posted(_: object) -> Response:
            if is_htmx(request):
                return _panel(request, session, actor, info, rid)
            return redirect(request, _record_url(info, rid) + "#activity", "Comment posted.")

        def refused(problem: Problem) -> Response:
            message = (problem.errors or [{}])[0].get("message") or problem.detail
            return _refused(request, session, actor, info, rid, values, {"body": str(message)})

        settings = request.app.state.settings
        chosen = form.file("file")

        def create() -> object:
            made = comments.create(session, actor, kind, rid, data, settings)
            if chosen is not None:  # in the comment's transaction: refused file, no comment
                upload = attachments.Upload(chosen.filename or "", chosen.file)
                attachments.attach(session, actor, SubjectRef("comment", made.id), upload, settings)
            return made

        def refused_with_file(problem: Problem) -> Response:
            if problem.slug.startswith("attachment-"):
                sentence = attachment_pages.refusal(problem).removesuffix(".")
                message = f"{sentence}; the comment was not posted."
                return _refused(request, session, actor, info, rid, values, {"file": message})
            return refused(problem)

        return submit(
            session,
            create,
            done=posted,
            refused=refused_with_file,
            passes=answer_only(413, 422, 503),
        )

    @routes.get(base + "/mentionable")
    def mentionable(
        request: Request,
        session: DB,
        actor: PageActor,
        record_id: str,
        q: Annotated[str, Query(max_length=100)] = "",
        audience: Annotated[str, Query(max_length=20)] = "participants",
    ) -> Response:
        rid = parse_id(record_id, kind)
        found = mentions.mentionable(
            session,
            actor.principal,
            actor,
            kind,
            rid,
            query=q,
            audience="company" if audience == "company" else "participants",
        )
        return render(request, "activity/_mentionable.html", {"candidates": found, "q": q})

    return routes


def _refused(
    request: Request,
    session: Session,
    actor: Actor,
    info: KindInfo,
    record_id: uuid.UUID,
    values: dict[str, Any],
    errors: dict[str, str],
) -> Response:
    if FORM_ERROR in errors and "body" not in errors:
        errors["body"] = errors.pop(FORM_ERROR)
    return _panel(
        request, session, actor, info, record_id, values=values, errors=errors, status_code=422
    )


for _info in KINDS.values():
    router.include_router(_record_routes(_info))


@router.post("/comments/{comment_id}/delete")
def delete_comment(
    request: Request, session: DB, actor: PageActor, form: FormInput, comment_id: str
) -> Response:
    cid = parse_id(comment_id, "comment")
    found = comments.read_one(session, actor, cid)
    info = next(i for i in KINDS.values() if i.kind.value == found.kind)
    back = _record_url(info, found.record_id) + "#activity"

    def deleted(_: object) -> Response:
        if is_htmx(request):
            return _panel(request, session, actor, info, found.record_id)
        return redirect(request, back, "Comment deleted.")

    def refused(problem: Problem) -> Response:
        if is_htmx(request):
            notice = problem_message(problem)
            return _panel(
                request, session, actor, info, found.record_id, notice=notice, status_code=409
            )
        return redirect(request, back, problem_message(problem), "error")

    return submit(
        session,
        lambda: comments.delete(session, actor, cid, form.version()),
        done=deleted,
        refused=refused,
        passes=raise_on(404),
    )


@router.get("/notifications")
def notifications_page(
    request: Request, session: DB, actor: PageActor, cursor: Text = "", unread: Text = ""
) -> Response:
    items, next_cursor = notifications.list_mine(
        session, actor, unread=unread == "1", limit=NOTIFICATIONS_PAGE, cursor=cursor or None
    )
    return render(
        request,
        "activity/notifications.html",
        {
            "items": items,
            "next_cursor": next_cursor,
            "unread_only": unread == "1",
            "unread_count": notifications.unread_count(session, actor),
            "nav": "notifications",
        },
    )


@router.get("/notifications/bell")
def bell(request: Request, session: DB, actor: PageActor) -> Response:
    return render(
        request, "activity/_bell.html", {"unread_count": notifications.unread_count(session, actor)}
    )


def _back(request: Request, message: str) -> Callable[[], Response]:
    def go() -> Response:
        return redirect(request, "/notifications", message)

    return go


@router.post("/notifications/{notification_id}/read")
def mark_read(request: Request, session: DB, actor: PageActor, notification_id: str) -> Response:
    found = notifications.mark_read(session, actor, parse_id(notification_id, "notification"))
    session.commit()
    if is_htmx(request):
        return render(request, "activity/_notification.html", {"item": found})
    return _back(request, "Marked as read.")()


@router.post("/notifications/read-all")
def mark_all_read(request: Request, session: DB, actor: PageActor) -> Response:
    notifications.mark_all_read(session, actor)
    session.commit()
    return _back(request, "All notifications marked as read.")()
