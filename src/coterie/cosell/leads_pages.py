"""Pages of lead nomination, conversion and deal registration."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
