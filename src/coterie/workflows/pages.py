"""Pages of workflows and boards."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
