"""Routes of lead nomination, decisions, duplicates, conversion and deal registration."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
