"""Routes of comments, the timeline and notifications.

Record-scoped routes exist for every kind (`/opportunities/{id}/comments`, ...) and answer 404,
like the record itself, to anyone who may not see the record. Notifications are the caller's
own only.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from coterie.activity import comments, mentions, notifications, timeline
from coterie.activity.schemas import (
    CommentIn,
    CommentOut,
    CommentPatch,
    MentionCandidate,
    NotificationOut,
    TimelineItem,
    UnreadCount,
)
from coterie.auth.dependencies import ApiActor
from coterie.deps import DB, AppSettings
from coterie.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from coterie.kit.preconditions import PRECONDITION_RESPONSES, expected_version, set_etag
from coterie.records.kinds import KINDS, KindInfo

router = APIRouter()

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=500)]


def _record_routes(info: KindInfo) -> APIRouter:
    kind = info.kind.value
    routes = APIRouter(prefix=f"/{info.plural}/{{record_id}}", tags=["activity"])

    @routes.get(
        "/timeline",
        response_model=Page[TimelineItem],
        summary=f"What happened on the {kind}, newest first, as I may see it",
    )
    def get_timeline(
        record_id: uuid.UUID,
        actor: ApiActor,
        session: DB,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[TimelineItem]:
        items, next_cursor = timeline.timeline(
            session, actor, kind, record_id, limit=limit, cursor=cursor
        )
        return Page(items=items, next_cursor=next_cursor)

    @routes.get(
        "/comments",
        response_model=Page[CommentOut],
        summary=f"Comments on the {kind} I may read, oldest first",
    )
    def list_comments(
        record_id: uuid.UUID,
        actor: ApiActor,
        session: DB,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[CommentOut]:
        items, next_cursor = comments.list_for_record(
            session, actor, kind, record_id, limit=limit, cursor=cursor
        )
        return Page(items=items, next_cursor=next_cursor)

    @routes.post(
        "/comments",
        response_model=CommentOut,
        status_code=status.HTTP_201_CREATED,
        summary="Comment (Markdown, @mentions); notifies the people it concerns",
    )
    def create_comment(
        record_id: uuid.UUID,
        body: CommentIn,
        actor: ApiActor,
        session: DB,
        settings: AppSettings,
        response: Response,
    ) -> CommentOut:
        comment = comments.create(session, actor, kind, record_id, body, settings)
        session.commit()
        set_etag(response, comment.version)
        return comments.read_one(session, actor, comment.id)

    @routes.get(
        "/mentionable",
        response_model=list[MentionCandidate],
        summary="People I may mention on the record (names only)",
    )
    def mentionable(
        record_id: uuid.UUID,
        actor: ApiActor,
        session: DB,
        q: Annotated[str, Query(max_length=100)] = "",
        audience: Literal["participants", "company"] = "participants",
    ) -> list[MentionCandidate]:
        principal = actor.principal
        found = mentions.mentionable(
            session, principal, actor, kind, record_id, query=q, audience=audience
        )
        return [
            MentionCandidate(
                user_id=c.user_id, name=c.name, company_id=c.company_id, company_name=c.company_name
            )
            for c in found
        ]

    return routes


for _info in KINDS.values():
    router.include_router(_record_routes(_info))


CommentVersion = Annotated[
    int, expected_version("the comment's ETag from GET /api/v1/comments/{id}")
]


@router.get("/comments/{comment_id}", response_model=CommentOut, tags=["activity"])
def get_comment(
    comment_id: uuid.UUID, actor: ApiActor, session: DB, response: Response
) -> CommentOut:
    out = comments.read_one(session, actor, comment_id)
    set_etag(response, out.version)
    return out


@router.patch(
    "/comments/{comment_id}",
    response_model=CommentOut,
    tags=["activity"],
    summary="Edit my comment (If-Match: its version); newly mentioned people are notified",
    responses=PRECONDITION_RESPONSES,
)
def patch_comment(
    comment_id: uuid.UUID,
    body: CommentPatch,
    actor: ApiActor,
    session: DB,
    settings: AppSettings,
    response: Response,
    expected: CommentVersion,
) -> CommentOut:
    comments.update(session, actor, comment_id, body, expected, settings)
    session.commit()
    out = comments.read_one(session, actor, comment_id)
    set_etag(response, out.version)
    return out


@router.delete(
    "/comments/{comment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["activity"],
    summary="Delete my comment (If-Match: its version)",
    responses=PRECONDITION_RESPONSES,
)
def delete_comment(
    comment_id: uuid.UUID, actor: ApiActor, session: DB, expected: CommentVersion
) -> Response:
    comments.delete(session, actor, comment_id, expected)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/notifications",
    response_model=Page[NotificationOut],
    tags=["notifications"],
    summary="My notifications, newest first (only those about records I may still see)",
)
def list_notifications(
    actor: ApiActor,
    session: DB,
    unread: bool = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[NotificationOut]:
    items, next_cursor = notifications.list_mine(
        session, actor, unread=unread, limit=limit, cursor=cursor
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/notifications/unread-count", response_model=UnreadCount, tags=["notifications"])
def unread_count(actor: ApiActor, session: DB) -> UnreadCount:
    return UnreadCount(unread=notifications.unread_count(session, actor))


@router.post(
    "/notifications/read-all",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["notifications"],
    summary="Mark all my notifications read",
)
def read_all(actor: ApiActor, session: DB) -> Response:
    notifications.mark_all_read(session, actor)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/notifications/{notification_id}/read",
    response_model=NotificationOut,
    tags=["notifications"],
)
def read_one(notification_id: uuid.UUID, actor: ApiActor, session: DB) -> NotificationOut:
    out = notifications.mark_read(session, actor, notification_id)
    session.commit()
    return out
