"""The demo's co-selling story: what the partners of the demo network do together.

Nimbus Cloud hosts a partner program, "Nimbus ISV Accelerate: North America", with Relay CRM,
Meridian Consulting Group and Bastion Security on it, and a joint workflow made from the built-in
"joint solution" template. In that program, the joint sales plan "Financial Services
Co-Sell" (owned by Nimbus, with Relay and Meridian) has joint and company goals, two target
accounts and six leads and opportunities. Each company keeps its own amount, stage, close date
and forecast on the shared opportunities, and shares some of them (see `TEMPLATES`). Leads are
nominated, accepted, rejected and converted; deals are registered; people comment and mention
each other; workflow moves wait for approvals.

Everything is done by demo users through the application's services (an `Actor` per user), so
grants, audit rows, the change log and notifications are those real use would leave. Each step
runs at the real time of the load; the `Clock` notes, before each step, when the story says it
happened, and `Clock.backdate` then moves the timestamps written by each step to that moment
with plain UPDATEs, so that timelines, notifications and the weekly pipeline review have a past.
Dates (close dates, periods) are relative to the day of the load.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, ColumnElement, case, literal, update
from sqlalchemy.orm import Session

from coterie.activity import comments
from coterie.activity.schemas import CommentIn
from coterie.auth.principal import Actor
from coterie.authz import gate, rls
from coterie.config import Settings
from coterie.cosell.campaigns import links as campaign_links
from coterie.cosell.campaigns.schemas import Relation
from coterie.cosell.pipeline import leads, registrations
from coterie.cosell.pipeline.schemas import ConvertIn, RejectReason
from coterie.cosell.planning import accounts, goals, plans, programs, rates
from coterie.cosell.schemas import (
    AccountPlanIn,
    GoalIn,
    Metric,
    NextStepIn,
    PlanProfileIn,
    ProgramProfileIn,
    ProgramType,
    RateIn,
    Status,
)
from coterie.cosell.schemas import Role as LinkRole
from coterie.db import UTCDateTime, utcnow
from coterie.demo import ideas as demo_ideas
from coterie.demo.data import BASTION, COMPANIES, MERIDIAN, NIMBUS, QUARRY, RELAY, TIDEWATER
from coterie.fields import templates
from coterie.fields.definitions import CompaniesAudience, FieldDefinition
from coterie.models import AuditEvent, Company, Participant, Record, Space, Template, User
from coterie.models.activity import Comment, Notification, RecordChange
from coterie.models.cosell import (
    AccountPlan,
    ExchangeRate,
    PlanDetails,
    PlanGoal,
    PlanRecord,
    ProgramDetails,
)
from coterie.models.ideas import Idea, IdeaEndorsement
from coterie.models.pipeline import DealRegistration, LeadDecision
from coterie.models.vocabulary import Region
from coterie.models.workflow import (
    RecordTask,
    RecordWorkflow,
    WorkflowApproval,
    WorkflowDefinition,
    WorkflowMove,
)
from coterie.records import admission, participants
from coterie.records import service as records
from coterie.records import templates as template_writes
from coterie.records.schemas import RecordCreate
from coterie.workflows import approvals, definitions, inbox, moves, presenters
from coterie.workflows.schemas import MoveIn, WorkflowIn


def login(domain: str, name: str) -> str:
    """The demo login of `name` at the company of `domain` (fails at import on a typo)."""
    spec = next(s for s in COMPANIES if s.domain == domain)
    person = next(p for p in spec.people if p.name == name)
    return spec.email_of(person)


DANA = login(NIMBUS, "Dana Whitfield")  # Nimbus admin
MARCUS = login(NIMBUS, "Marcus Oyelaran")  # Nimbus manager: hosts the program, owns the plan
SOFIA = login(NIMBUS, "Sofia Marquez")  # Nimbus member: finds the leads
HANNAH = login(RELAY, "Hannah Brooks")  # Relay admin
DIEGO = login(RELAY, "Diego Alvarez")  # Relay manager: Relay's side of the plan
MEGAN = login(RELAY, "Megan Foster")  # Relay member: owns the accepted lead
CATHERINE = login(MERIDIAN, "Catherine Doyle")  # Meridian admin
RAJESH = login(MERIDIAN, "Rajesh Iyer")  # Meridian manager
FIONA = login(MERIDIAN, "Fiona Gallagher")  # Meridian manager: a nomination waits for her
NOA = login(BASTION, "Noa Friedman")  # Bastion admin
EITAN = login(BASTION, "Eitan Levi")  # Bastion manager: a deal registration waits for him
CHARLOTTE = login(QUARRY, "Charlotte Hughes")  # Quarry manager: rejected a nomination
TASHA = login(TIDEWATER, "Tasha Reynolds")  # Tidewater manager: registered a deal

PROGRAM_TITLE = "Nimbus ISV Accelerate: North America"
PLAN_TITLE = "Financial Services Co-Sell"
HARBOR = "Harbor Federal Credit Union"
PINECREST = "Pinecrest Bank"
O_HARBOR = "Harbor Federal: CRM modernisation on Nimbus"
O_PINECREST = "Pinecrest Bank: Relay Sales Cloud rollout"
O_NORTHWIND = "Northwind Insurance: sales analytics and CRM"
O_COBALT = "Cobalt Savings: CRM replacement"
O_LAKESHORE = "Lakeshore Credit Union: Relay CRM on Nimbus"
O_CORDILLERA = "Cordillera Retail: managed cloud security"
L_BAYVIEW = "Bayview Health Partners: CRM for member services"
L_REDWOOD = "Redwood Logistics: pipeline analytics"
L_LAKESHORE = "Lakeshore Credit Union: CRM pilot"
S_RELAY = "Relay Revenue Cloud on Nimbus: Financial Services edition"
S_BASTION = "Bastion posture management for Nimbus landing zones"
C_SUMMIT = "Financial Services Cloud Summit: North America"

# Who shares what of its own space on opportunities (a standard field not listed is private).
TEMPLATES: dict[str, dict[str, str | tuple[str, ...]]] = {
    NIMBUS: {
        "amount": "participants",
        "stage": "participants",
        "close_date": "participants",
        "product": "participants",
    },
    RELAY: {
        "amount": "participants",
        "stage": "participants",
        "close_date": (NIMBUS,),  # Nimbus only: Meridian never sees Relay's close dates
        "forecast_category": (NIMBUS,),
        "product": "participants",
    },
    MERIDIAN: {
        "stage": "participants",
        "close_date": "participants",
        "forecast_category": (RELAY,),  # its amount stays private
    },
    BASTION: {"amount": "participants", "stage": "participants"},
}

# (login, what that user finds): the co-selling guided tour of the docs' Demo network page.
TOUR: tuple[tuple[str, str], ...] = (
    (
        MARCUS,
        f"Nimbus's side: the program *{PROGRAM_TITLE}* and its joint workflow, the plan "
        f"*{PLAN_TITLE}* (goals with progress, target accounts, linked pipeline, the weekly "
        "review with this week's advanced, won, lost, pulled-in and new deals), a pending move "
        f"of the joint solution *{S_RELAY}* to approve in `/approvals`, and notifications "
        "(a mention, an approval request)",
    ),
    (
        DIEGO,
        f"Relay's side: its own standard pipeline workflow (moves and tasks on each "
        f"opportunity), the opportunity *{O_HARBOR}* with Nimbus's and Meridian's spaces "
        "(Meridian's amount is private), an internal note, the lead converted from Nimbus's "
        "nomination, the deal registration it approved for Meridian, and in the plan's review "
        f"the slipped close date of *{O_PINECREST}*",
    ),
    (
        FIONA,
        f"Meridian's side: a lead nomination from Nimbus waiting in `/leads/nominations` "
        f"(*{L_REDWOOD}*), the plan's goals where Relay's deals count as \"not shared with "
        'you" (Relay shares its close dates with Nimbus only), and the approved deal '
        f"registration of *{O_PINECREST}*",
    ),
    (
        EITAN,
        f"Bastion's side: Tidewater's deal registration of *{O_CORDILLERA}* waiting for "
        f"approval in `/registrations`, and the joint solution *{S_BASTION}* in execution",
    ),
    (
        CHARLOTTE,
        f"Quarry's side: the nomination of *{L_REDWOOD}* it rejected, with its reason",
    ),
)


# -- the clock: when the story says each step happened --------------------------------------


_RECORD_SCOPED: tuple[tuple[Any, str, tuple[str, ...]], ...] = (
    (Record, "id", ("created_at", "updated_at")),
    (Participant, "record_id", ("invited_at", "responded_at")),
    (Space, "record_id", ("updated_at",)),
    (RecordChange, "record_id", ("at",)),
    (Comment, "record_id", ("created_at", "edited_at")),
    (PlanRecord, "plan_id", ("linked_at",)),
    (PlanGoal, "plan_id", ("created_at", "updated_at")),
    (ProgramDetails, "record_id", ("updated_at",)),
    (PlanDetails, "record_id", ("updated_at",)),
    (AccountPlan, "record_id", ("updated_at",)),
    (RecordWorkflow, "record_id", ("entered_at",)),
    (WorkflowMove, "record_id", ("requested_at", "completed_at")),
    (WorkflowApproval, "record_id", ("decided_at",)),
    (RecordTask, "record_id", ("created_at", "done_at")),
    (Idea, "program_id", ("created_at", "decided_at")),
    (IdeaEndorsement, "program_id", ("created_at",)),
    (LeadDecision, "record_id", ("nominated_at", "decided_at")),
    (
        DealRegistration,
        "record_id",
        ("created_at", "submitted_at", "decided_at", "approved_at", "updated_at"),
    ),
)
_COMPANY_SCOPED: tuple[tuple[Any, str, tuple[str, ...]], ...] = (
    (Notification, "company_id", ("created_at", "emailed_at")),
    (AuditEvent, "company_id", ("created_at",)),
    (WorkflowDefinition, "company_id", ("created_at", "updated_at")),
    (ExchangeRate, "company_id", ("updated_at",)),
    (Template, "company_id", ("updated_at",)),
)


class Clock:
    """Before each step, `at(moment)` notes the real time and the story's moment; `backdate`
    then gives every timestamp written between two notes the story's moment of the first.

    Threads of the story (an opportunity, a lead, a joint solution) are told one after the
    other, so the story's moments may go back between threads; within one record they must go
    forward, as the change log and the move history read them in time order."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.marks: list[tuple[datetime, datetime]] = []  # (real time, story time), real order

    def at(self, moment: datetime) -> None:
        if moment > self.now:
            raise ValueError(f"the story cannot happen in the future ({moment.isoformat()})")
        self.marks.append((utcnow(), moment))

    def _story(self, column: Column[Any]) -> ColumnElement[Any]:
        def stamp(moment: datetime) -> ColumnElement[Any]:
            return literal(moment, UTCDateTime())

        whens = [
            (column < self.marks[i + 1][0], stamp(self.marks[i][1]))
            for i in range(len(self.marks) - 1)
        ]
        return case(*whens, else_=stamp(self.marks[-1][1]))

    def backdate(
        self, session: Session, record_ids: list[uuid.UUID], company_ids: list[uuid.UUID]
    ) -> None:
        """Move what the story wrote back to when it happened (demo data only: the rows of the
        demo's records and companies written since the first mark)."""
        if not self.marks:
            return
        session.flush()
        since = self.marks[0][0]
        scoped = [(t, c, cols, record_ids) for t, c, cols in _RECORD_SCOPED] + [
            (t, c, cols, company_ids) for t, c, cols in _COMPANY_SCOPED
        ]
        # Plain UPDATEs of timestamps only, on rows this load just wrote. The system scope lets
        # them reach every company's rows on PostgreSQL (row-level security).
        with rls.unsafe_system_scope(session):
            for model, scope, columns, ids in scoped:
                table = model.__table__
                for name in columns:
                    column = table.c[name]
                    session.execute(
                        update(table)
                        .where(column >= since, table.c[scope].in_(ids))
                        .values({name: self._story(column)})
                    )
        session.expire_all()


# -- the story ----------------------------------------------------------------------------------


@dataclass
class Story:
    """What `CoSell.run` created, for the summary and the tests."""

    program_id: uuid.UUID
    plan_id: uuid.UUID
    records: dict[str, uuid.UUID]  # title -> id


class CoSell:
    def __init__(
        self,
        session: Session,
        settings: Settings,
        people: dict[str, User],
        companies: dict[str, Company],
        actor_of: Callable[[User], Actor],
    ) -> None:
        self.session = session
        self.settings = settings
        self.people = people
        self.companies = companies
        self.actor_of = actor_of
        self.now = utcnow()
        self.today = self.now.date()
        self.clock = Clock(self.now)
        self.ids: dict[str, uuid.UUID] = {}  # title -> record id
        self.joint_workflow = uuid.UUID(int=0)  # set when the program's workflow exists
        self.approved: tuple[uuid.UUID, date] | None = None  # a registration, its approval day

    # -- helpers ----------------------------------------------------------------------------

    def at(self, days_ago: float) -> None:
        self.clock.at(self.now - timedelta(days=days_ago))

    def day(self, offset: int) -> date:
        return self.today + timedelta(days=offset)

    def iso(self, offset: int) -> str:
        return self.day(offset).isoformat()

    def actor(self, email: str) -> Actor:
        return self.actor_of(self.people[email])

    def uid(self, email: str) -> str:
        return str(self.people[email].id)

    def cid(self, domain: str) -> uuid.UUID:
        return self.companies[domain].id

    def mention(self, email: str) -> str:
        user = self.people[email]
        return f"@[{user.name}]({user.id})"

    def create(self, who: str, kind: str, title: str, **core: Any) -> uuid.UUID:
        fields = core.pop("fields", {})
        data = RecordCreate.model_validate({"title": title, "fields": fields, **core})
        record = records.create(self.session, self.actor(who), kind, data)
        self.ids[title] = record.id
        return record.id

    def share(self, who: str, kind: str, record_id: uuid.UUID, *accepters: str) -> None:
        """`who` invites the company of each accepter, who accepts the invitation."""
        for email in accepters:
            partner = self.people[email].company_id
            admission.invite(self.session, self.actor(who), kind, record_id, partner)
            participants.accept(self.session, self.actor(email), kind, record_id, partner)

    def fill(self, who: str, kind: str, record_id: uuid.UUID, **fields: Any) -> None:
        actor = self.actor(who)
        principal = actor.principal
        space = gate.own_space_for_write(self.session, principal, kind, record_id)
        records.update_my_space(self.session, actor, kind, record_id, fields, space.version)

    def move(self, who: str, kind: str, record_id: uuid.UUID, workflow: uuid.UUID, to: str) -> None:
        actor = self.actor(who)
        states = presenters.record_states(self.session, actor, kind, record_id)
        version = next(s.version for s in states if s.workflow.id == workflow)
        data = MoveIn(to=to, note="")
        moves.move(self.session, actor, kind, record_id, workflow, data, version)

    def approve_pending(self, who: str, record_id: uuid.UUID, comment: str) -> None:
        """`who` approves what its inbox asks of it on the record."""
        actor = self.actor(who)
        for item in inbox.inbox(self.session, actor):
            if item.record_id == record_id:
                approvals.decide(
                    self.session, actor, item.approval.id, approve=True, comment=comment
                )
                return
        raise LookupError(f"nothing waits for {who}'s approval on {record_id}")

    def comment(self, who: str, kind: str, record_id: uuid.UUID, body: str, **extra: Any) -> None:
        data = CommentIn.model_validate({"body": body, **extra})
        comments.create(self.session, self.actor(who), kind, record_id, data, self.settings)

    def template(self, admin: str, kind: str, shares: dict[str, str | tuple[str, ...]]) -> None:
        """`admin` saves the company's template of `kind`: standard field -> who sees it."""
        fields = []
        for key, visibility in shares.items():
            audience: Any = visibility
            if isinstance(visibility, tuple):
                audience = CompaniesAudience(companies=[self.cid(d) for d in visibility])
            fields.append(FieldDefinition(key=key, visibility=audience))
        data = template_writes.TemplateIn(fields=fields)
        actor = self.actor(admin)
        version = templates.load(self.session, actor.company_id, kind).version
        template_writes.save(self.session, actor, kind, data, version)

    # -- the story, in order ----------------------------------------------------------------

    def run(self) -> Story:
        self.setup()
        self.program_and_plan()
        self.opportunities()
        self.joint_solutions()
        self.ideas()
        self.campaigns()
        self.lead_nominations()
        self.deal_registrations()
        self.this_week()
        self.backdate()
        return Story(
            program_id=self.ids[PROGRAM_TITLE],
            plan_id=self.ids[PLAN_TITLE],
            records=dict(self.ids),
        )

    def backdate(self) -> None:
        """Give what the story wrote the times the story says (see `Clock`)."""
        company_ids = [company.id for company in self.companies.values()]
        self.clock.backdate(self.session, list(self.ids.values()), company_ids)
        if self.approved is not None:
            # The approval set the expiry from the real day; the story approved it earlier.
            registration_id, approved_on = self.approved
            days = registrations.settings_of(self.session, self.cid(RELAY)).expiry_days
            with rls.unsafe_system_scope(self.session):
                self.session.execute(
                    update(DealRegistration)
                    .where(DealRegistration.id == registration_id)
                    .values(expires_on=approved_on + timedelta(days=days))
                    .execution_options(synchronize_session=False)
                )

    def setup(self) -> None:
        self.at(130)
        for admin, domain in ((DANA, NIMBUS), (HANNAH, RELAY), (CATHERINE, MERIDIAN)):
            self.template(admin, "opportunity", TEMPLATES[domain])
            # each side shows who owns the joint plans and accounts on its side
            for kind in ("plan", "account"):
                self.template(admin, kind, {"owner": "participants"})
        self.template(NOA, "opportunity", TEMPLATES[BASTION])
        valid_from = self.day(-130)
        rates.save_rates(
            self.session,
            self.actor(DANA),
            [
                RateIn(currency="GBP", rate=Decimal("1.27"), valid_from=valid_from),
                RateIn(currency="EUR", rate=Decimal("1.08"), valid_from=valid_from),
                RateIn(currency="CAD", rate=Decimal("0.73"), valid_from=valid_from),
            ],
        )
        # Relay runs its own opportunities through the standard pipeline (private to Relay).
        definitions.create(
            self.session, self.actor(DIEGO), WorkflowIn(template="standard_pipeline")
        )

    def program_and_plan(self) -> None:
        self.at(120)
        program = self.create(
            MARCUS,
            "program",
            PROGRAM_TITLE,
            description=(
                "Co-sell program for ISVs listed on the Nimbus Marketplace and the SIs that "
                "implement them in North America: joint account planning, marketplace private "
                "offers and migration funding for financial services and healthcare."
            ),
        )
        programs.save_program(
            self.session,
            self.actor(MARCUS),
            program,
            ProgramProfileIn(
                program_type=ProgramType.CO_SELL,
                region=Region.NORTH_AMERICA,
                starts_on=self.day(-120),
                ends_on=self.day(245),
                status=Status.ACTIVE,
            ),
            0,  # its first profile
        )
        self.at(118)
        self.share(MARCUS, "program", program, DIEGO, RAJESH, EITAN)
        self.at(115)
        workflow = definitions.create(
            self.session,
            self.actor(MARCUS),
            WorkflowIn(template="joint_solution", program_id=program),
        )
        self.joint_workflow = workflow.id

        self.at(95)
        harbor = self.create(
            MARCUS,
            "account",
            HARBOR,
            customer_name=HARBOR,
            customer_domain="harborfederal.example",
            description="Member-owned credit union, 1.2 million members in the Pacific Northwest.",
            fields={"region": "north-america", "industry": "financial-services"},
        )
        self.share(MARCUS, "account", harbor, DIEGO, RAJESH)
        pinecrest = self.create(
            RAJESH,
            "account",
            PINECREST,
            customer_name=PINECREST,
            customer_domain="pinecrestbank.example",
            description="Regional bank, 140 branches; Meridian runs its core banking platform.",
        )
        self.share(RAJESH, "account", pinecrest, DIEGO)
        self.at(92)
        accounts.save_plan(
            self.session,
            self.actor(DIEGO),
            harbor,
            AccountPlanIn(
                objectives=(
                    "Replace the member-service CRM before the core banking upgrade in Q3.\n\n"
                    "- Relay: CRM and member 360\n"
                    "- Meridian: migration and integration with the core\n"
                    "- Nimbus: landing zone, migration funding, marketplace private offer"
                ),
                next_steps=[
                    NextStepIn(
                        title="Executive briefing with the CIO",
                        owner_user_id=uuid.UUID(self.uid(MARCUS)),
                        due_date=self.day(-20),
                        done=True,
                    ),
                    NextStepIn(
                        title="Scope the data migration from the legacy CRM",
                        owner_user_id=uuid.UUID(self.uid(RAJESH)),
                        due_date=self.day(10),
                    ),
                    NextStepIn(
                        title="Marketplace private offer for the first year",
                        owner_user_id=uuid.UUID(self.uid(DIEGO)),
                        due_date=self.day(21),
                    ),
                ],
            ),
            0,  # the account's first plan
        )

        self.at(90)
        plan = self.create(
            MARCUS,
            "plan",
            PLAN_TITLE,
            description=(
                "Nimbus, Relay CRM and Meridian sell CRM modernisation on Nimbus to banks, "
                "credit unions and insurers in North America this half."
            ),
        )
        self.share(MARCUS, "plan", plan, DIEGO, RAJESH)
        programs.save_plan(
            self.session,
            self.actor(MARCUS),
            plan,
            PlanProfileIn(
                program_id=program,
                period_start=self.day(-90),
                period_end=self.day(90),
                status=Status.ACTIVE,
            ),
            0,  # its first profile
        )
        self.fill(MARCUS, "plan", plan, owner=self.uid(MARCUS))
        self.fill(DIEGO, "plan", plan, owner=self.uid(DIEGO))
        self.fill(RAJESH, "plan", plan, owner=self.uid(FIONA))
        self.at(89)
        marcus, diego, rajesh = self.actor(MARCUS), self.actor(DIEGO), self.actor(RAJESH)
        usd = "USD"
        for actor, data in (
            (marcus, GoalIn(metric=Metric.PIPELINE_VALUE, target=Decimal(2_000_000), currency=usd)),
            (marcus, GoalIn(metric=Metric.CLOSED_REVENUE, target=Decimal(750_000), currency=usd)),
            (
                marcus,
                GoalIn(metric=Metric.LEAD_COUNT, target=Decimal(6), company_id=self.cid(NIMBUS)),
            ),
            (
                diego,
                GoalIn(
                    metric=Metric.CLOSED_REVENUE,
                    target=Decimal(500_000),
                    company_id=self.cid(RELAY),
                ),
            ),
            (
                rajesh,
                GoalIn(
                    metric=Metric.OPPORTUNITY_COUNT,
                    target=Decimal(4),
                    company_id=self.cid(MERIDIAN),
                ),
            ),
        ):
            goals.create(self.session, actor, plan, data)
        plans.link(self.session, marcus, plan, harbor, LinkRole.TARGET_ACCOUNT)
        plans.link(self.session, rajesh, plan, pinecrest, LinkRole.TARGET_ACCOUNT)

    def opportunities(self) -> None:
        plan, harbor = self.ids[PLAN_TITLE], self.ids[HARBOR]
        fsi = {"region": "north-america", "industry": "financial-services"}
        self.at(70)
        o1 = self.create(
            DIEGO,
            "opportunity",
            O_HARBOR,
            customer_name=HARBOR,
            customer_domain="harborfederal.example",
            account_id=harbor,
            motion="co-sell",
            fields={
                "amount": 420_000,
                "stage": "qualify",
                "close_date": self.iso(45),
                "forecast_category": "pipeline",
                "owner": self.uid(DIEGO),
                "product": "Relay Sales Cloud",
                **fsi,
            },
        )
        self.at(69)
        self.share(DIEGO, "opportunity", o1, MARCUS, RAJESH)
        self.fill(
            MARCUS,
            "opportunity",
            o1,
            amount=180_000,
            stage="develop",
            close_date=self.iso(75),
            forecast_category="best_case",
            owner=self.uid(MARCUS),
            product="Nimbus landing zone and migration credits",
        )
        self.fill(
            RAJESH,
            "opportunity",
            o1,
            amount=310_000,
            stage="develop",
            close_date=self.iso(50),
            forecast_category="pipeline",
            owner=self.uid(RAJESH),
        )
        self.at(66)
        o2 = self.create(
            RAJESH,
            "opportunity",
            O_PINECREST,
            customer_name=PINECREST,
            customer_domain="pinecrestbank.example",
            account_id=self.ids[PINECREST],
            motion="resell",
            fields={
                "amount": 240_000,
                "stage": "propose",
                "close_date": self.iso(20),
                "forecast_category": "commit",
                "owner": self.uid(FIONA),
                **fsi,
            },
        )
        self.share(RAJESH, "opportunity", o2, DIEGO)
        self.fill(
            DIEGO,
            "opportunity",
            o2,
            amount=350_000,
            stage="develop",
            close_date=self.iso(12),
            owner=self.uid(MEGAN),
            product="Relay Sales Cloud",
        )
        self.at(62)
        o3 = self.create(
            DIEGO,
            "opportunity",
            O_NORTHWIND,
            customer_name="Northwind Insurance Group",
            customer_domain="northwind-insurance.example",
            motion="co-sell",
            fields={
                "amount": 260_000,
                "stage": "develop",
                "close_date": self.iso(10),
                "forecast_category": "commit",
                "owner": self.uid(MEGAN),
                "product": "Relay Sales Cloud + Quarry connector",
                **fsi,
            },
        )
        self.share(DIEGO, "opportunity", o3, MARCUS)
        self.fill(MARCUS, "opportunity", o3, amount=95_000, stage="propose", close_date=self.iso(5))
        o6 = self.create(
            MARCUS,
            "opportunity",
            O_COBALT,
            customer_name="Cobalt Savings",
            customer_domain="cobaltsavings.example",
            motion="co-sell",
            fields={
                "amount": 150_000,
                "stage": "propose",
                "close_date": self.iso(15),
                "owner": self.uid(MARCUS),
                **fsi,
            },
        )
        self.share(MARCUS, "opportunity", o6, DIEGO)
        self.fill(DIEGO, "opportunity", o6, amount=200_000, stage="qualify", owner=self.uid(DIEGO))
        self.at(60)
        for who, record_id in ((DIEGO, o1), (RAJESH, o2), (DIEGO, o3), (MARCUS, o6)):
            plans.link(self.session, self.actor(who), plan, record_id, LinkRole.PIPELINE)
        self.at(35)
        self.fill(DIEGO, "opportunity", o1, stage="develop")  # a move on Relay's workflow
        self.at(24)
        self.fill(DIEGO, "opportunity", o3, stage="propose")
        self.at(20)
        self.fill(DIEGO, "opportunity", o3, stage="negotiate")
        self.fill(DIEGO, "opportunity", o2, stage="propose")

    def joint_solutions(self) -> None:
        workflow = self.joint_workflow
        self.at(45)
        s2 = self.create(
            EITAN,
            "solution",
            S_BASTION,
            customer_name="Nimbus financial services customers",
            description=(
                "Bastion posture management deployed with every Nimbus landing zone Meridian "
                "builds for regulated customers, sold through the Nimbus Marketplace."
            ),
        )
        self.share(EITAN, "solution", s2, MARCUS, RAJESH)
        moves.attach(self.session, self.actor(EITAN), "solution", s2, workflow)
        self.move(EITAN, "solution", s2, workflow, "business_review")
        self.at(42)
        self.move(EITAN, "solution", s2, workflow, "approval")
        self.at(40)
        self.move(EITAN, "solution", s2, workflow, "partner_approval")
        self.at(38)
        self.approve_pending(MARCUS, s2, "Fits the landing zone accelerator: approved.")
        self.at(33)
        self.move(EITAN, "solution", s2, workflow, "execution")
        self.at(32)
        self.approve_pending(NOA, s2, "Approved for Bastion.")
        self.at(31)
        self.approve_pending(CATHERINE, s2, "Meridian's security practice is staffed for it.")

        self.at(16)
        s1 = self.create(
            DIEGO,
            "solution",
            S_RELAY,
            customer_name="Banks and credit unions in North America",
            description=(
                "Relay Sales Cloud pre-integrated with Nimbus data services, a Meridian "
                "migration factory for legacy CRMs, and one marketplace private offer."
            ),
        )
        self.share(DIEGO, "solution", s1, MARCUS, RAJESH)
        moves.attach(self.session, self.actor(DIEGO), "solution", s1, workflow)
        self.move(DIEGO, "solution", s1, workflow, "business_review")
        self.at(9)
        self.move(DIEGO, "solution", s1, workflow, "approval")

    def ideas(self) -> None:
        """Ideas proposed to the program (`coterie.demo.ideas`)."""
        cast = demo_ideas.Cast(
            host=MARCUS, seller=MEGAN, seller_manager=DIEGO, partner=RAJESH, third=EITAN
        )
        accepted = demo_ideas.add(
            self.session,
            self.actor,
            lambda email: self.people[email].company_id,
            self.at,
            self.ids[PROGRAM_TITLE],
            cast,
        )
        self.ids.update(accepted)

    def campaigns(self) -> None:
        """Nimbus runs a campaign with Relay; deals are attributed to it, and Relay links its
        deals and the plan to its joint solution (`coterie.cosell.campaigns`)."""
        self.at(15)
        nimbus = self.actor(DANA)
        current = templates.load(self.session, nimbus.company_id, "campaign")
        shared = {"objective", "audience", "channel", "starts_on", "ends_on"}
        fields = [
            f.model_copy(update={"visibility": "participants"}) if f.key in shared else f
            for f in current.fields
        ]
        template_writes.save(
            self.session, nimbus, "campaign", template_writes.TemplateIn(fields=fields), 0
        )
        summit = self.create(
            MARCUS,
            "campaign",
            C_SUMMIT,
            description="A one-day summit for banks and credit unions moving CRM to Nimbus.",
            fields={
                "objective": "Meet 40 IT and sales leaders planning a CRM move to Nimbus.",
                "audience": "CIOs and heads of sales at North American banks",
                "channel": "event",
                "starts_on": self.iso(-5),
                "ends_on": self.iso(-4),
                "expected_leads": 40,
                "expected_pipeline": 2_000_000,
                "owner": self.uid(MARCUS),
            },
        )
        self.share(MARCUS, "campaign", summit, DIEGO)
        for title in (O_HARBOR, O_COBALT):
            campaign_links.link(
                self.session, self.actor(MARCUS), Relation.CAMPAIGN, summit, self.ids[title]
            )
        diego = self.actor(DIEGO)
        for title in (O_HARBOR, O_NORTHWIND, PLAN_TITLE):
            campaign_links.link(
                self.session, diego, Relation.SOLUTION, self.ids[S_RELAY], self.ids[title]
            )

    def lead_nominations(self) -> None:
        plan = self.ids[PLAN_TITLE]
        sofia, marcus = self.actor(SOFIA), self.actor(MARCUS)
        self.at(28)
        l1 = self.create(
            SOFIA,
            "lead",
            L_BAYVIEW,
            customer_name="Bayview Health Partners",
            customer_domain="bayviewhealth.example",
            motion="co-sell",
            description="Asked the Nimbus account team for a CRM for member services.",
            fields={"owner": self.uid(SOFIA), "region": "north-america", "industry": "healthcare"},
        )
        l3 = self.create(
            SOFIA,
            "lead",
            L_LAKESHORE,
            customer_name="Lakeshore Credit Union",
            customer_domain="lakeshorecu.example",
            motion="co-sell",
            description="Migrating to Nimbus; their CRM contract ends in the spring.",
            fields={"owner": self.uid(SOFIA), "region": "north-america"},
        )
        l2 = self.create(
            SOFIA,
            "lead",
            L_REDWOOD,
            customer_name="Redwood Logistics",
            customer_domain="redwoodlogistics.example",
            motion="referral",
            description="Wants pipeline analytics on top of their Nimbus data lake.",
            fields={"owner": self.uid(SOFIA)},
        )
        for lead in (l1, l3):
            plans.link(self.session, marcus, plan, lead, LinkRole.PIPELINE)
        self.at(26)
        leads.nominate(
            self.session,
            sofia,
            l1,
            [self.cid(RELAY)],
            "Member-services CRM, 400 seats; they asked for a Relay demo.",
        )
        self.at(25)
        leads.accept(self.session, self.actor(DIEGO), l1, self.people[MEGAN].id)
        self.at(13)
        leads.nominate(
            self.session,
            sofia,
            l3,
            [self.cid(RELAY)],
            "Credit union on Nimbus; the CRM renewal is the trigger.",
        )
        self.at(12)
        leads.accept(self.session, self.actor(DIEGO), l3, self.people[DIEGO].id)
        self.at(10)
        leads.nominate(
            self.session,
            sofia,
            l2,
            [self.cid(QUARRY), self.cid(MERIDIAN)],
            "Analytics on their Nimbus data lake; Meridian could build the data product.",
        )
        self.at(8)
        leads.reject(
            self.session,
            self.actor(CHARLOTTE),
            l2,
            RejectReason.ALREADY_ENGAGED,
            "We are already in a proof of concept with Redwood through Tidewater.",
        )

    def deal_registrations(self) -> None:
        o2 = self.ids[O_PINECREST]
        self.at(18)
        rajesh = self.actor(RAJESH)
        approved = registrations.create(
            self.session,
            rajesh,
            o2,
            self.cid(RELAY),
            "Meridian resells the Relay licences with its implementation.",
        )
        registrations.submit(self.session, rajesh, approved.id, approved.version)
        self.at(17)
        registrations.approve(
            self.session,
            self.actor(DIEGO),
            approved.id,
            "Registered to Meridian for 90 days.",
            approved.version,
        )
        self.approved = (approved.id, self.day(-17))

    def this_week(self) -> None:
        """The week the weekly pipeline review shows (every step within the last 7 days)."""
        o1, o2, o3, o6 = (self.ids[t] for t in (O_HARBOR, O_PINECREST, O_NORTHWIND, O_COBALT))
        self.at(5)
        self.fill(MARCUS, "opportunity", o1, close_date=self.iso(60))  # pulled in
        self.at(4.5)
        cordillera = self.create(
            TASHA,
            "opportunity",
            O_CORDILLERA,
            customer_name="Cordillera Retail",
            customer_domain="cordillera-retail.example",
            motion="resell",
            fields={"amount": 85_000, "stage": "propose", "close_date": self.iso(30)},
        )
        self.at(4)
        self.fill(MARCUS, "opportunity", o6, stage="lost", forecast_category="omitted")
        self.comment(
            MARCUS,
            "opportunity",
            o6,
            f"Cobalt chose to stay on premises this year. {self.mention(DIEGO)}, let's revisit "
            "after their data centre contract ends.",
        )
        self.at(3)
        self.fill(DIEGO, "opportunity", o1, stage="propose", forecast_category="best_case")
        self.comment(
            MARCUS,
            "opportunity",
            o1,
            f"Great progress. {self.mention(DIEGO)}, the CIO wants the landing zone sized before "
            f"the proposal review. {self.mention(RAJESH)}, can Meridian scope the migration by "
            "Friday?",
        )
        self.comment(
            DIEGO,
            "opportunity",
            o1,
            f"{self.mention(MEGAN)} keep the forecast at best case until the security review "
            "is done; Nimbus does not need to know about our discount yet.",
            audience="company",
        )
        self.at(2.5)
        tidewater = self.actor(TASHA)
        pending = registrations.create(
            self.session,
            tidewater,
            cordillera,
            self.cid(BASTION),
            "Tidewater operates Bastion as part of its managed security service.",
        )
        registrations.submit(self.session, tidewater, pending.id, pending.version)
        self.at(2)
        self.fill(DIEGO, "opportunity", o2, close_date=self.iso(40))  # slipped
        self.fill(RAJESH, "opportunity", o2, amount=275_000)
        # the lead came from the summit: its opportunity keeps the attribution
        campaign_links.link(
            self.session,
            self.actor(MARCUS),
            Relation.CAMPAIGN,
            self.ids[C_SUMMIT],
            self.ids[L_LAKESHORE],
        )
        lakeshore = leads.convert(
            self.session,
            self.actor(DIEGO),
            self.ids[L_LAKESHORE],
            ConvertIn(
                title=O_LAKESHORE,
                fields={
                    "amount": 90_000,
                    "stage": "qualify",
                    "close_date": self.iso(75),
                    "owner": self.uid(DIEGO),
                    "product": "Relay Sales Cloud",
                },
            ),
        )
        self.ids[O_LAKESHORE] = lakeshore.id
        self.fill(MARCUS, "opportunity", lakeshore.id, amount=40_000, stage="qualify")
        self.at(1.5)
        participants.accept(
            self.session, self.actor(EITAN), "opportunity", cordillera, self.cid(BASTION)
        )
        self.at(1)
        self.fill(
            DIEGO,
            "opportunity",
            o3,
            stage="won",
            close_date=self.iso(-1),
            forecast_category="closed",
        )
        self.comment(
            DIEGO,
            "opportunity",
            o3,
            f"Signed this morning. Thank you {self.mention(MARCUS)} for the marketplace offer!",
        )
        self.at(0.1)
        s1, workflow = self.ids[S_RELAY], self.joint_workflow
        self.comment(
            DIEGO,
            "solution",
            s1,
            f"{self.mention(MARCUS)} the reference architecture is in the deck: ready for "
            "your approval.",
        )
        self.move(DIEGO, "solution", s1, workflow, "partner_approval")  # waits for Nimbus
