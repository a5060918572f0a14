"""Hypothesis searches for a sequence of actions that puts a company on a record without its
owner's consent (DESIGN must 8).

Four partnered companies; two records, owned by different companies. Any company invites
(directly or via a proposal), accepts, declines, leaves, writes auto-share rules that name other
companies; owners remove, delegate the right to admit and take it back; admitters decide
proposals. A deliberately naive model records *consent*: a company an admitter (the owner, or a
participant the owner delegated the right to at that moment) invited, or whose proposal an
admitter accepted, or that an admitter's auto-share rule names. After every step, for every
record: each invited or active company is the owner or consented, and each company reads the
record exactly when it is active on it."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from tests.conftest import empty_all_tables
from tests.fixtures.builders import Member, make_company, make_partnership

OPPS = "/api/v1/opportunities"
N = 4
COMPANY = st.integers(0, N - 1)
RECORD = st.integers(0, 1)


@dataclass
class Model:
    owner: int
    status: dict[int, str] = field(default_factory=dict)  # company -> participant status
    delegates: set[int] = field(default_factory=set)
    consented: set[int] = field(default_factory=set)

    def admits(self, company: int) -> bool:
        return company == self.owner or (
            self.status.get(company) == "active" and company in self.delegates
        )


def run_machine(client: TestClient) -> type[RuleBasedStateMachine]:
    class Admission(RuleBasedStateMachine):
        members: list[Member]
        records: list[str]
        models: list[Model]
        rule_targets: dict[int, set[int]]

        @initialize()
        def network(self) -> None:
            empty_all_tables(client.app.state.engine)  # type: ignore[attr-defined]
            self.members = [make_company(client, f"Co{i}") for i in range(N)]
            for i in range(N):
                for j in range(i + 1, N):
                    make_partnership(client, self.members[i], self.members[j])
            self.records, self.models = [], []
            # each record starts with one partner active on it, so that a single step by a
            # non-owner can already try to bring a company in
            for owner, partner in ((0, 1), (1, 2)):
                created = client.post(
                    OPPS, json={"title": f"Deal of Co{owner}"}, headers=self.members[owner].headers
                )
                assert created.status_code == 201, created.text
                record_id = created.json()["id"]
                base = f"{OPPS}/{record_id}/participants"
                partner_id = self.members[partner].company_id
                invited = client.post(
                    base, json={"company_id": partner_id}, headers=self.members[owner].headers
                )
                assert invited.status_code == 201, invited.text
                joined = client.post(
                    f"{base}/{partner_id}/accept", headers=self.members[partner].headers
                )
                assert joined.status_code == 200, joined.text
                self.records.append(record_id)
                self.models.append(
                    Model(owner, {owner: "active", partner: "active"}, set(), {owner, partner})
                )
            self.rule_targets = {}

        def _url(self, record: int, suffix: str = "") -> str:
            return f"{OPPS}/{self.records[record]}{suffix}"

        @rule(record=RECORD, actor=COMPANY, other=COMPANY)
        def invite(self, record: int, actor: int, other: int) -> None:
            model = self.models[record]
            admits = model.admits(actor)
            response = client.post(
                self._url(record, "/participants"),
                json={"company_id": self.members[other].company_id},
                headers=self.members[actor].headers,
            )
            if model.status.get(actor) != "active":
                assert response.status_code == 404, response.text
                return
            if other == actor or model.status.get(other) in ("invited", "active"):
                assert response.status_code in (409, 422), response.text
                return
            if response.status_code == 201:
                assert admits, "a company that may not admit invited directly"
                model.status[other] = "invited"
                model.consented.add(other)
            else:
                assert response.status_code in (202, 409), response.text
                assert not admits

        @rule(record=RECORD, actor=COMPANY, accept=st.booleans())
        def decide_proposals(self, record: int, actor: int, accept: bool) -> None:
            model = self.models[record]
            listed = client.get(
                self._url(record, "/proposals"), headers=self.members[actor].headers
            )
            if listed.status_code != 200:
                return
            pending = [p for p in listed.json() if p["status"] == "pending"]
            company_ids = [m.company_id for m in self.members]
            for proposal in pending[:1]:
                response = client.post(
                    self._url(
                        record, f"/proposals/{proposal['id']}/{'accept' if accept else 'decline'}"
                    ),
                    headers=self.members[actor].headers,
                )
                target = company_ids.index(proposal["company_id"])
                if response.status_code == 200 and accept:
                    assert model.admits(actor), "a company that may not admit accepted a proposal"
                    model.status[target] = "invited"
                    model.consented.add(target)
                elif response.status_code == 200:
                    assert model.admits(actor)
                else:
                    assert response.status_code in (403, 404, 409), response.text

        @rule(record=RECORD, actor=COMPANY, accept=st.booleans())
        def answer(self, record: int, actor: int, accept: bool) -> None:
            model = self.models[record]
            company_id = self.members[actor].company_id
            verb = "accept" if accept else "decline"
            response = client.post(
                self._url(record, f"/participants/{company_id}/{verb}"),
                headers=self.members[actor].headers,
            )
            if model.status.get(actor) == "invited":
                assert response.status_code in (200, 204), response.text
                model.status[actor] = "active" if accept else "declined"
            else:
                assert response.status_code in (404, 409), response.text

        @rule(record=RECORD, actor=COMPANY, other=COMPANY)
        def leave_or_remove(self, record: int, actor: int, other: int) -> None:
            model = self.models[record]
            response = client.delete(
                self._url(record, f"/participants/{self.members[other].company_id}"),
                headers=self.members[actor].headers,
            )
            if response.status_code == 204:
                assert actor == other or actor == model.owner
                model.status[other] = "left" if actor == other else "removed"
                model.delegates.discard(other)

        @rule(record=RECORD, actor=COMPANY, other=COMPANY, allow=st.booleans())
        def delegate(self, record: int, actor: int, other: int, allow: bool) -> None:
            model = self.models[record]
            response = client.patch(
                self._url(record, f"/participants/{self.members[other].company_id}"),
                json={"can_admit": allow},
                headers=self.members[actor].headers,
            )
            if response.status_code == 200:
                assert actor == model.owner, "only the owner delegates"
                if allow:
                    model.delegates.add(other)
                else:
                    model.delegates.discard(other)
            else:
                assert response.status_code in (403, 404, 422), response.text

        @rule(actor=COMPANY, names=st.sets(COMPANY, min_size=1, max_size=2))
        def auto_share_rule(self, actor: int, names: set[int]) -> None:
            """A rule of `actor` naming `targets` on every opportunity it takes part in. Saving
            it applies all of `actor`'s rules: where `actor` admits, what they name is its own
            choice (consent); elsewhere they may only be proposed."""
            targets = names - {actor}
            if not targets:
                return
            named = self.rule_targets.setdefault(actor, set())
            named |= targets
            for model in self.models:
                if model.admits(actor):
                    model.consented |= named
            response = client.post(
                "/api/v1/rules",
                json={
                    "kind": "opportunity",
                    "name": f"Rule {len(named)} {sorted(targets)}",
                    "type": "auto_share",
                    "condition": {"field": "title", "op": "starts_with", "value": "Deal"},
                    "grantees": {"companies": [self.members[t].company_id for t in targets]},
                },
                headers=self.members[actor].headers,
            )
            assert response.status_code == 201, response.text
            self._resync()

        def _resync(self) -> None:
            """Rules change participants behind the model's back: read the statuses (as the
            owner) and keep the consent check for the invariant."""
            for record, model in enumerate(self.models):
                body = client.get(self._url(record), headers=self.members[model.owner].headers)
                assert body.status_code == 200, body.text
                company_ids = [m.company_id for m in self.members]
                for p in body.json()["participants"]:
                    company = company_ids.index(p["company_id"])
                    if model.status.get(company) != p["status"]:
                        model.status[company] = p["status"]
                    if p["status"] != "active":
                        model.delegates.discard(company)

        @invariant()
        def only_consented_companies_are_on_a_record(self) -> None:
            if not hasattr(self, "records"):
                return
            company_ids = [m.company_id for m in self.members]
            for record, model in enumerate(self.models):
                reads = {
                    company: client.get(self._url(record), headers=member.headers)
                    for company, member in enumerate(self.members)
                }
                participants = reads[model.owner].json()["participants"]
                on_record = {
                    company_ids.index(p["company_id"]): p["status"]
                    for p in participants
                    if p["status"] in ("invited", "active")
                }
                assert set(on_record) <= model.consented, (
                    f"record {record} (owner Co{model.owner}) has "
                    f"{sorted(set(on_record) - model.consented)} that no admitter let in"
                )
                for company, read in reads.items():
                    expected = 200 if on_record.get(company) == "active" else 404
                    assert read.status_code == expected, (record, company, read.text)

    return Admission


def test_no_sequence_of_actions_admits_a_company_without_the_owner(app: FastAPI) -> None:
    with TestClient(app) as client:
        try:
            machine = run_machine(client)
            run_state_machine_as_test(
                machine,
                settings=settings(
                    settings.default,
                    deadline=None,
                    stateful_step_count=12,
                    suppress_health_check=[HealthCheck.too_slow],
                ),
            )
        finally:
            empty_all_tables(app.state.engine)
