"""Routes of comments, the timeline and notifications."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
