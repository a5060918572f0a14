"""Pages of programs, plans, goals and account plans."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
