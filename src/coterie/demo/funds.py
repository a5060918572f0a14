"""The demo's marketing funds: Nimbus Cloud funds its program's partners.

Marcus (Nimbus manager) sets up the "Nimbus partner marketing fund" for the program's current
half-year, 60,000 USD kept private to Nimbus, and allots a share to Relay CRM (capped at
25,000) and to Meridian Consulting Group. Relay asked for 12,000 for a webinar series and got
10,000 approved (Nimbus's reason stays in a private note); Meridian's roadshow request waits
for Nimbus's decision. Everything goes through `coterie.funds`' services as the demo users.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from coterie.demo.cosell import DIEGO, MARCUS, PROGRAM_TITLE, RAJESH, CoSell
from coterie.demo.data import MERIDIAN, RELAY
from coterie.funds import budgets, requests
from coterie.funds.schemas import AllocationIn, ApproveIn, BudgetIn, RequestIn
from coterie.models.funds import FundRequest

BUDGET_NAME = "Nimbus partner marketing fund"
RELAY_ACTIVITY = "Relay + Nimbus Financial Services webinar series"
MERIDIAN_ACTIVITY = "Meridian cloud migration roadshow"


@dataclass(frozen=True)
class FundsStory:
    budget_name: str
    approved_activity: str
    waiting_activity: str


def run(story: CoSell) -> FundsStory:
    session = story.session
    today = story.today
    marcus = story.actor(MARCUS)
    budget = budgets.create(
        session,
        marcus,
        BudgetIn(
            program_id=story.ids[PROGRAM_TITLE],
            name=BUDGET_NAME,
            period_name="Current half-year",
            period_start=today - timedelta(days=60),
            period_end=today + timedelta(days=120),
            currency="USD",
            total=Decimal("60000"),
        ),
    )
    budgets.allot(
        session,
        marcus,
        budget.id,
        AllocationIn(partner_company_id=story.cid(RELAY), cap=Decimal("25000")),
    )
    budgets.allot(session, marcus, budget.id, AllocationIn(partner_company_id=story.cid(MERIDIAN)))

    def ask(who: str, activity: str, amount: str, description: str) -> FundRequest:
        return requests.create(
            session,
            story.actor(who),
            RequestIn(
                budget_id=budget.id,
                activity=activity,
                description=description,
                requested_amount=Decimal(amount),
                currency="USD",
                expected_pipeline=Decimal(amount) * 15,
                contribution_pct=50,
                starts_on=today + timedelta(days=14),
                ends_on=today + timedelta(days=45),
                claim_deadline=today + timedelta(days=90),
                submit=True,
            ),
        )

    relay = ask(
        DIEGO,
        RELAY_ACTIVITY,
        "12000",
        "Three webinars for retail-banking CIOs with a joint Relay-on-Nimbus demo.",
    )
    requests.approve(
        session,
        marcus,
        relay.id,
        ApproveIn(
            approved_amount=Decimal("10000"),
            message="Approved for the three webinars; the swag is on Relay.",
            internal_note="Relay's last two webinars brought 40 leads: fund, but not the swag.",
        ),
        relay.version,
    )
    ask(
        RAJESH,
        MERIDIAN_ACTIVITY,
        "8000",
        "Four half-day migration workshops in Toronto, Chicago, Boston and New York.",
    )
    return FundsStory(BUDGET_NAME, RELAY_ACTIVITY, MERIDIAN_ACTIVITY)
