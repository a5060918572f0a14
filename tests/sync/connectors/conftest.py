"""The connectors' peers: a real Tryton server (tests/fixtures/tryton.py)."""

from tests.fixtures.tryton import tryton_server, tryton_user

__all__ = ["tryton_server", "tryton_user"]
