"""Every API operation against its own OpenAPI description (schemathesis).

As the signed-in admin of a company with a partner and records of every kind, schemathesis
generates requests for each operation from the schema (valid ones and, in the deep run, invalid
ones) and checks each response: never a 5xx, a status code the operation documents, the
documented content type, and a body that matches the documented schema. Path parameters are
sometimes real ids of the company's records, so operations get past "not found".

`make test` runs a short pass with a fixed seed (`COTERIE_FUZZ_EXAMPLES`, default 5 per
operation, valid data only); `make fuzz` a deep one (more examples, invalid data too).
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi import checks

from coterie.config import Settings
from tests.fixtures import cosell as c
from tests.fixtures.builders import PASSWORD, Member, make_company, make_partnership

EXAMPLES = int(os.environ.get("COTERIE_FUZZ_EXAMPLES", "5"))
NEGATIVE = os.environ.get("COTERIE_FUZZ_NEGATIVE", "") == "1"
CHECKS = [
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("fuzz")]


@dataclass
class World:
    client: TestClient
    admin: Member
    ids: list[str]

    def token(self) -> str:
        """A new login token of the admin."""
        response = self.client.post(
            "/api/v1/auth/token", json={"email": self.admin.email, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])


@pytest.fixture
def world(client: TestClient) -> World:
    """A company with a partner, and a record of each kind shared with it."""
    admin = make_company(client, "Fuzz Vendor")
    partner = make_company(client, "Fuzz Partner")
    make_partnership(client, admin, partner)
    ids = [admin.company_id, partner.company_id, admin.user_id]
    for kind in ("account", "lead", "opportunity", "program", "plan", "solution"):
        record_id = c.record(client, admin, kind, f"Fuzz {kind}", amount=1000)
        c.join(client, admin, kind, record_id, partner)
        ids.append(record_id)
    return World(client, admin, ids)


def _operations(app: FastAPI) -> Iterator[Any]:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    for result in schema.get_all_operations():
        yield result.ok()


def _with_real_ids(case: Any, ids: list[str], rng: random.Random) -> None:
    """Half of the time, each path parameter that looks like an id becomes a real one."""
    for name, value in (case.path_parameters or {}).items():
        if name.endswith("_id") and rng.random() < 0.5:
            case.path_parameters[name] = rng.choice(ids)
        elif name == "kind" and isinstance(value, str) and rng.random() < 0.5:
            case.path_parameters[name] = "opportunity"


def _exercise(operation: Any, mode: GenerationMode, world: World) -> None:
    """Run the operation's generated cases (a fixed seed: the same cases every run)."""
    rng = random.Random(f"{operation.method} {operation.path} {mode.value}")
    headers = {"Authorization": f"Bearer {world.token()}"}  # a call may sign it out

    @hypothesis_settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        _with_real_ids(case, world.ids, rng)
        response = case.call(headers=headers)
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
        )
        if mode == GenerationMode.POSITIVE:
            case.validate_response(response, checks=CHECKS)

    run()


def test_every_operation_answers_as_documented_and_never_5xx(
    app: FastAPI, client: TestClient, world: World, settings: Settings
) -> None:
    # generated logins fail by the hundred from one address: throttling would lock the run out
    settings.login_failures_per_address = settings.login_failures_per_account = 10**6
    modes = [GenerationMode.POSITIVE]
    if NEGATIVE:
        modes.append(GenerationMode.NEGATIVE)
    failures: list[str] = []
    for operation in _operations(app):
        for mode in modes:
            try:
                _exercise(operation, mode, world)
            except Unsatisfiable:  # nothing to get wrong in it (no parameter, no body)
                assert mode == GenerationMode.NEGATIVE, operation.path
            except (Exception, BaseExceptionGroup) as exc:  # every operation's, then report
                failures.append(
                    f"{operation.method.upper()} {operation.path} [{mode.value}]: {exc}"
                )
    assert not failures, "\n\n".join(failures)
