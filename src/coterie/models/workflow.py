"""Workflow definitions and stages, transitions, approvals, record workflow state, moves, tasks,
saved filters."""

from __future__ import annotations
