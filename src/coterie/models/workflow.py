"""Workflow definitions and stages, transitions, approvals, record workflow state, moves, tasks,
saved filters.

A definition belongs to a company (`program_id` NULL: it drives that company's own space
`stage` for a kind) or to a program (it drives the shared `records.joint_stage` of the records
linked to the program's plans or attached to it). Everything keyed by a record (`record_*`,
`workflow_moves`, `workflow_approvals`) is read only after the gate has admitted the record.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from coterie.db import Base, UTCDateTime, new_id, utcnow
from coterie.kit import conditional


class WorkflowDefinition(Base):
    """Ordered stages (with entry criteria and steps) and transitions (with approvals)."""

    __tablename__ = "workflow_definitions"
    __table_args__ = (
        # one active definition per (company, kind) for company workflows ...
        Index(
            "uq_workflow_definitions_active_company",
            "company_id",
            "kind",
            unique=True,
            sqlite_where=text("active AND program_id IS NULL"),
            postgresql_where=text("active AND program_id IS NULL"),
        ),
        # ... and per (company, program, kind) for program workflows
        Index(
            "uq_workflow_definitions_active_program",
            "company_id",
            "program_id",
            "kind",
            unique=True,
            sqlite_where=text("active AND program_id IS NOT NULL"),
            postgresql_where=text("active AND program_id IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    program_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    stages: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    transitions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = conditional.versioned(version)
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecordWorkflow(Base):
    """Where one record stands on one workflow."""

    __tablename__ = "record_workflows"

    record_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), primary_key=True
    )
    workflow_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workflow_definitions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    stage_key: Mapped[str | None] = mapped_column(String(60))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = conditional.versioned(version)


class WorkflowMove(Base):
    """One move of a record on a workflow: done at once, or pending its approvals."""

    __tablename__ = "workflow_moves"
    __table_args__ = (
        Index("ix_workflow_moves_record_workflow", "record_id", "workflow_id"),
        # at most one move of a record on a workflow waits for approvals (the service claims
        # the record's state first; this is the database's own word on it)
        Index(
            "uq_workflow_moves_one_pending",
            "record_id",
            "workflow_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    workflow_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workflow_definitions.id", ondelete="CASCADE"), index=True
    )
    from_stage: Mapped[str | None] = mapped_column(String(60))
    to_stage: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20))  # done, pending, rejected, canceled
    requested_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    requested_by_company_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("companies.id", ondelete="SET NULL")
    )
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")


class WorkflowApproval(Base):
    """One approval a pending move needs from a company (a user of it with a role or above)."""

    __tablename__ = "workflow_approvals"
    __table_args__ = (Index("ix_workflow_approvals_company_status", "company_id", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    move_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workflow_moves.id", ondelete="CASCADE"), index=True
    )
    record_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    # pending, waiting (sequential, not its turn yet), approved, rejected, canceled
    status: Mapped[str] = mapped_column(String(20))
    decided_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str] = mapped_column(Text, default="")


class RecordTask(Base):
    """A to-do on a record: made by a stage's steps or by hand. Visible to its company only,
    unless `shared` (then to every company that sees the record)."""

    __tablename__ = "record_tasks"
    __table_args__ = (
        Index("ix_record_tasks_record", "record_id"),
        Index("ix_record_tasks_owner_done", "owner_user_id", "done"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # the record's kind (for the gate)
    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    workflow_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("workflow_definitions.id", ondelete="SET NULL")
    )
    stage_key: Mapped[str | None] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    owner_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    due_date: Mapped[date | None] = mapped_column(Date)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = conditional.versioned(version)
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SavedFilter(Base):
    """A named list filter (the `records.query` filter language) of a user, optionally shared
    with the user's company."""

    __tablename__ = "saved_filters"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    filter: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    shared_with_company: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = conditional.versioned(version)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
