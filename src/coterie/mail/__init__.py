"""Outgoing e-mail: composed in `messages`, queued in the outbox and sent by the worker
(`delivery`)."""
