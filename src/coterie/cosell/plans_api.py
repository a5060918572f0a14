"""Routes of programs, plans, goals, plan links and account plans."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
