"""Routes of workflow definitions, moves, approvals, tasks, saved filters and boards."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
