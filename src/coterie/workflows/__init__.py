"""Workflows: definitions per company or program, stages, entry criteria, tasks, approvals,
moves and boards."""
