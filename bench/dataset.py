"""The benchmark data set, generated from a seed: the same scale and seed give the same rows.

Companies (each with users, a home region, an opportunity template with a realistic mix of field
visibilities, and active partnerships), opportunities with one owner company and extra partner
companies (about 2.5 participants per record, mostly active, some invited, left or removed),
one space per company that ever accepted (standard fields and custom JSON), the `field_shares`
rows a template save would compile, and the company-wide `record_access` rows that
`coterie.authz.grants` keeps for every active participant.

Three companies have a role in the benchmarks (`Landmarks`):
- the large viewer owns `large_owned` records and is an active partner on `large_shared` more
  (plus some invitations and records it left, which it must not see); `rule_matches` of the
  records it owns have region "emea" in its own space, which the benchmark auto-share rule
  matches (a rule invites only onto records its company owns: DESIGN must 8);
- the small viewer, likewise with `small_owned` and `small_shared`;
- the auto-share target: a partner of the large viewer on no record of it, so the rule's
  invitations are all new; it owns `export_rows` opportunities of its own (a tenth in EMEA in
  its space), shared only with its few partners: the rows of the export memory figure.

Rows come out in `Batch`es, table by table, records in chunks; ids are UUIDv7 like the app's
(time-ordered), made from the seed.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from bench.scales import Scale
from coterie.activity.changes import PARTICIPANT_PREFIX
from coterie.authz.principal import COMPANY_WIDE
from coterie.models import pair_key
from coterie.models.vocabulary import CompanySize, Industry, PartnerType, Region
from coterie.records.fields import FieldDefinition, ForecastCategory
from coterie.records.kinds import Motion, ParticipantStatus
from coterie.records.search import search_terms

GENERATOR_VERSION = 5
KIND = "opportunity"
LEAD = "lead"
PLAN = "plan"
LARGE, SMALL, TARGET = 0, 1, 2  # company indexes with a role; every other company is ordinary
RECORD_CHUNK = 20_000
BASE_TIME = datetime(2025, 1, 1, tzinfo=UTC)
RECORD_SPAN_MS = 540 * 24 * 3600 * 1000
T = TypeVar("T")
NO_LOGIN = "!bench-user-cannot-log-in"  # not an argon2 hash: no password matches it

ACTIVE = ParticipantStatus.ACTIVE.value
INVITED = ParticipantStatus.INVITED.value
LEFT = ParticipantStatus.LEFT.value
REMOVED = ParticipantStatus.REMOVED.value

COLUMNS: dict[str, tuple[str, ...]] = {
    "companies": (
        "id", "name", "name_key", "domain", "industry", "hq_country", "description", "size",
        "currency", "website", "created_at", "updated_at",
    ),
    "company_regions": ("company_id", "region"),
    "company_partner_types": ("company_id", "partner_type"),
    "users": (
        "id", "company_id", "email", "name", "title", "password_hash", "role", "is_active",
        "preferences", "created_at", "last_login_at",
    ),
    "partnerships": (
        "id", "requester_company_id", "recipient_company_id", "pair_key", "status", "message",
        "requested_by_id", "created_at", "responded_at", "responded_by_id", "ended_at",
        "ended_by_company_id",
    ),
    "record_templates": (
        "company_id", "kind", "definition", "version", "updated_at", "updated_by_user_id",
    ),
    "field_shares": ("id", "owner_company_id", "kind", "field_key", "audience_company_id"),
    "records": (
        "id", "kind", "title", "customer_name", "customer_domain", "account_id",
        "owner_company_id", "motion", "description", "joint_stage", "version",
        "created_by_user_id", "created_at", "updated_at",
    ),
    "record_participants": (
        "record_id", "company_id", "status", "invited_by_company_id", "invited_by_user_id",
        "invited_at", "responded_at", "source",
    ),
    "record_spaces": (
        "record_id", "company_id", "version", "amount", "currency", "stage",
        "forecast_category", "close_date", "owner_user_id", "region", "industry", "product",
        "custom", "updated_at", "updated_by_user_id",
    ),
    "record_access": ("company_id", "kind", "principal", "record_id", "can_edit", "via"),
    "plan_details": (
        "record_id", "program_id", "period_start", "period_end", "status", "version",
        "updated_at", "updated_by_user_id",
    ),
    "plan_records": (
        "plan_id", "record_id", "kind", "role", "linked_by_company_id", "linked_by_user_id",
        "linked_at",
    ),
    "record_changes": (
        "id", "record_id", "kind", "company_id", "field_key", "old_value", "new_value",
        "actor_user_id", "actor_company_id", "at",
    ),
    "search_entries": (
        "id", "record_id", "kind", "owner_company_id", "field_key", "content", "terms",
    ),
}  # fmt: skip
TABLES = tuple(COLUMNS)  # load order (foreign keys point backwards)
JSON_COLUMNS = frozenset({"preferences", "definition", "custom", "old_value", "new_value"})
# tables whose primary key is dropped for the bulk load and built back afterwards
RECORD_TABLES = (
    "records", "record_participants", "record_spaces", "record_access", "plan_details",
    "plan_records", "record_changes", "search_entries",
)  # fmt: skip
SEARCH_TABLE = "search_entries"  # its bigint ids are given here; the sequence is moved past them

REGIONS = tuple(r.value for r in Region)
OTHER_REGIONS = tuple(r for r in REGIONS if r != Region.EMEA.value)
INDUSTRIES = tuple(i.value for i in Industry)
PARTNER_TYPES = tuple(p.value for p in PartnerType)
SIZES = tuple(s.value for s in CompanySize)
MOTIONS = tuple(m.value for m in Motion)
FORECAST = tuple(f.value for f in ForecastCategory)
STAGES = (
    "Prospecting", "Qualification", "Discovery", "Solution design", "Proposal", "Negotiation",
    "Verbal commit", "Closed won", "Closed lost",
)  # fmt: skip
JOINT_STAGES = ("Identified", "Qualified", "Engaged", "Committed", "Won", "Lost", None)
PRODUCTS = (
    "Data platform", "Edge gateway", "Managed SOC", "CRM rollout", "Cloud migration",
    "Analytics suite", "Backup as a service", "Zero-trust access", "ERP upgrade",
    "Contact center AI", "Observability", "Payments API", "Field service app", "SD-WAN",
    "Identity governance", "Data residency add-on",
)  # fmt: skip
COUNTRIES = ("US", "CA", "GB", "DE", "FR", "NL", "SE", "ES", "IT", "IN", "JP", "AU", "SG", "BR")
CURRENCIES = ("USD", "USD", "USD", "EUR", "EUR", "GBP")
NAME_PARTS = (
    "North", "Blue", "Bright", "Quantum", "Silver", "Nimbus", "Atlas", "Vertex", "Harbor",
    "Summit", "Cobalt", "Lumen", "Orbit", "Pioneer", "Granite", "Maple", "Falcon", "Signal",
    "Aurora", "Beacon", "Cascade", "Delta", "Ember", "Fathom",
)  # fmt: skip
NAME_SUFFIXES = ("Systems", "Labs", "Cloud", "Partners", "Networks", "Software", "Group", "Data")
CUSTOMER_SUFFIXES = ("Bank", "Health", "Retail", "Motors", "Energy", "Foods", "Air", "Telecom")
NEXT_STEPS = (
    "Send proposal", "Book executive sponsor call", "Joint demo", "Security review",
    "Pricing approval", "Technical workshop", "Procurement", "",
)  # fmt: skip

# (private, participants, one or two named partners) weights of each field's visibility
VISIBILITY_WEIGHTS: dict[str, tuple[float, float, float]] = {
    "amount": (0.35, 0.45, 0.20),
    "stage": (0.20, 0.70, 0.10),
    "forecast_category": (0.60, 0.30, 0.10),
    "close_date": (0.30, 0.60, 0.10),
    "owner": (0.70, 0.30, 0.00),
    "region": (0.10, 0.85, 0.05),
    "industry": (0.15, 0.80, 0.05),
    "product": (0.20, 0.70, 0.10),
    "deal_type": (0.30, 0.60, 0.10),
    "partner_sourced": (0.30, 0.60, 0.10),
    "competitors": (0.60, 0.30, 0.10),
    "next_step": (0.40, 0.50, 0.10),
    "probability": (0.70, 0.20, 0.10),
    "internal_notes": (1.00, 0.00, 0.00),
}
COMPETITORS = ("acme", "globex", "initech", "umbrella", "hooli")
CUSTOM_FIELDS: dict[str, dict[str, Any]] = {
    "deal_type": {
        "type": "enum",
        "options": [
            {"key": "new_business", "label": "New business"},
            {"key": "expansion", "label": "Expansion"},
            {"key": "renewal", "label": "Renewal"},
        ],
    },
    "partner_sourced": {"type": "bool"},
    "competitors": {
        "type": "multi_enum",
        "options": [{"key": key, "label": key.title()} for key in COMPETITORS],
    },
    "next_step": {"type": "text"},
    "probability": {"type": "number"},
    "internal_notes": {"type": "long_text"},
}


@dataclass(frozen=True)
class Batch:
    table: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


@dataclass
class Landmarks:
    """The companies and users the benchmarks act as, and what the generator promised."""

    large_company: uuid.UUID
    large_admin: uuid.UUID
    large_member: uuid.UUID
    small_company: uuid.UUID
    small_admin: uuid.UUID
    small_member: uuid.UUID
    target_company: uuid.UUID
    target_member: uuid.UUID
    large_visible: int
    small_visible: int
    rule_matches: int
    export_rows: int  # the opportunities the target company owns (the export figure's rows)
    rows: dict[str, int] = field(default_factory=dict)
    # the generating process's resident memory: before generation, and its peak (MB)
    memory: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Landmarks:
        ids = {
            key: uuid.UUID(data[key])
            for key in (
                "large_company", "large_admin", "large_member", "small_company",
                "small_admin", "small_member", "target_company", "target_member",
            )
        }  # fmt: skip
        return cls(
            **ids,
            large_visible=int(data["large_visible"]),
            small_visible=int(data["small_visible"]),
            rule_matches=int(data["rule_matches"]),
            export_rows=int(data["export_rows"]),
            rows={str(k): int(v) for k, v in dict(data.get("rows", {})).items()},
            memory={str(k): float(v) for k, v in dict(data.get("memory", {})).items()},
        )


class Generator:
    """Plans the network from the seed, then yields its rows (`batches()`)."""

    def __init__(self, scale: Scale, seed: int) -> None:
        if scale.companies < 10:
            raise ValueError("a bench network needs at least 10 companies")
        self.scale = scale
        self.rng = random.Random(seed)  # noqa: S311 (reproducible data, not secrets)
        self.counts: Counter[str] = Counter()
        self._clock_ms = int(BASE_TIME.timestamp() * 1000) - 400 * 24 * 3600 * 1000
        self.company_ids = [self._new_id() for _ in range(scale.companies)]
        self.user_ids: list[list[uuid.UUID]] = []
        self.home_region = [self.rng.choice(REGIONS) for _ in range(scale.companies)]
        self.currency = [self.rng.choice(CURRENCIES) for _ in range(scale.companies)]
        self.partners: list[set[int]] = [set() for _ in range(scale.companies)]
        self._plan_partnerships()

    # --- ids and helpers ---------------------------------------------------------------------

    def _uuid7(self, ms: int) -> uuid.UUID:
        """A UUIDv7 for the instant `ms` (Unix milliseconds), its random bits from the seed."""
        return uuid7_of(ms, self.rng.getrandbits(74))

    def _new_id(self) -> uuid.UUID:
        self._clock_ms += 1
        return self._uuid7(self._clock_ms)

    @property
    def ordinary(self) -> range:
        return range(TARGET + 1, self.scale.companies)

    def _plan_partnerships(self) -> None:
        rng, scale = self.rng, self.scale
        ordinary = list(self.ordinary)
        for company in ordinary:
            for other in rng.sample(ordinary, scale.partnerships_per_company + 1):
                if other != company:
                    self._partner(company, other)
        for other in rng.sample(ordinary, min(scale.large_partners, len(ordinary))):
            self._partner(LARGE, other)
        for other in rng.sample(ordinary, min(scale.small_partners, len(ordinary))):
            self._partner(SMALL, other)
        self._partner(LARGE, TARGET)
        for other in rng.sample(ordinary, min(scale.export_partners, len(ordinary))):
            self._partner(TARGET, other)

    def _partner(self, a: int, b: int) -> None:
        self.partners[a].add(b)
        self.partners[b].add(a)

    def landmarks(self) -> Landmarks:
        large_users, small_users = self.user_ids[LARGE], self.user_ids[SMALL]
        return Landmarks(
            large_company=self.company_ids[LARGE],
            large_admin=large_users[0],
            large_member=large_users[-1],
            small_company=self.company_ids[SMALL],
            small_admin=small_users[0],
            small_member=small_users[-1],
            target_company=self.company_ids[TARGET],
            target_member=self.user_ids[TARGET][-1],
            large_visible=self.scale.large_visible,
            small_visible=self.scale.small_visible,
            rule_matches=self.scale.rule_matches,
            export_rows=self.scale.export_rows,
            rows=dict(self.counts),
        )

    def _batch(self, table: str, rows: list[tuple[Any, ...]]) -> Batch:
        self.counts[table] += len(rows)
        return Batch(table, COLUMNS[table], rows)

    # --- rows ----------------------------------------------------------------------------------

    def batches(self, on_records: Callable[[int], None] | None = None) -> Iterator[Batch]:
        """Every row, table by table (records, participants, spaces, grants in chunks);
        `on_records(n)` is told each time n more records were produced."""
        yield from self._network()
        yield from self._templates()
        yield from self._records(on_records)

    def _network(self) -> Iterator[Batch]:
        rng = self.rng
        created = BASE_TIME - timedelta(days=400)
        companies: list[tuple[Any, ...]] = []
        regions: list[tuple[Any, ...]] = []
        types: list[tuple[Any, ...]] = []
        users: list[tuple[Any, ...]] = []
        special = {
            LARGE: "Stratos Cloud (large viewer)",
            SMALL: "Pebble Analytics (small viewer)",
            TARGET: "Harbor Systems (auto-share target)",
        }
        for index, company_id in enumerate(self.company_ids):
            name = special.get(index) or (
                f"{rng.choice(NAME_PARTS)} {rng.choice(NAME_PARTS)} {rng.choice(NAME_SUFFIXES)}"
            )
            domain = f"c{index:05d}.bench.example"
            companies.append(
                (
                    company_id, name, name.lower(), domain, rng.choice(INDUSTRIES),
                    rng.choice(COUNTRIES), "", rng.choice(SIZES), self.currency[index], None,
                    created, created,
                )
            )  # fmt: skip
            regions.append((company_id, self.home_region[index]))
            types.append((company_id, rng.choice(PARTNER_TYPES)))
            roles = ["admin", "manager", *["member"] * (self.scale.users_per_company - 2)]
            if index == LARGE:
                roles = ["admin", "manager", "manager", *["member"] * 9]
            ids: list[uuid.UUID] = []
            for n, role in enumerate(roles):
                user_id = self._new_id()
                ids.append(user_id)
                users.append(
                    (
                        user_id, company_id, f"{role}{n}@{domain}", f"{role.title()} {n} {index}",
                        "", NO_LOGIN, role, True, {}, created, None,
                    )
                )  # fmt: skip
            self.user_ids.append(ids)
        yield self._batch("companies", companies)
        yield self._batch("company_regions", regions)
        yield self._batch("company_partner_types", types)
        yield self._batch("users", users)
        partnerships = []
        for a in range(self.scale.companies):
            for b in sorted(self.partners[a]):
                if b <= a:
                    continue
                a_id, b_id = self.company_ids[a], self.company_ids[b]
                partnerships.append(
                    (
                        self._new_id(), a_id, b_id, pair_key(a_id, b_id), "active", "",
                        self.user_ids[a][0], created, created, self.user_ids[b][0], None, None,
                    )
                )  # fmt: skip
        yield self._batch("partnerships", partnerships)

    def _visibility(self, company: int, key: str) -> Any:
        private, participants, _ = VISIBILITY_WEIGHTS[key]
        roll = self.rng.random()
        if roll < private:
            return "private"
        if roll < private + participants:
            return "participants"
        partners = sorted(self.partners[company])
        if not partners:
            return "private"
        chosen = self.rng.sample(partners, min(len(partners), self.rng.choice((1, 2))))
        return {"companies": [str(self.company_ids[c]) for c in chosen]}

    def _templates(self) -> Iterator[Batch]:
        """Each company's opportunity and lead templates (plans keep the empty default), and
        the field shares they compile to."""
        templates: list[tuple[Any, ...]] = []
        shares: list[tuple[Any, ...]] = []
        for index, company_id in enumerate(self.company_ids):
            for kind in (KIND, LEAD):
                fields: list[dict[str, Any]] = []
                for key, weights in VISIBILITY_WEIGHTS.items():
                    visibility = self._visibility(index, key) if weights[0] < 1 else "private"
                    spec = CUSTOM_FIELDS.get(key, {})
                    definition = FieldDefinition.model_validate(
                        {"key": key, "visibility": visibility, **spec}
                    )
                    fields.append(definition.model_dump(mode="json"))
                    if key == "amount":  # the currency goes with the amount
                        currency = FieldDefinition(key="currency", visibility=definition.visibility)
                        fields.append(currency.model_dump(mode="json"))
                templates.append(
                    (company_id, kind, {"fields": fields, "retired": []}, 1, BASE_TIME, None)
                )
                # what coterie.records.templates.save compiles: a row per audience, none if private
                for entry in fields:
                    visibility = entry["visibility"]
                    audiences: list[uuid.UUID | None] = []
                    if visibility == "participants":
                        audiences = [None]
                    elif isinstance(visibility, dict):
                        audiences = [uuid.UUID(c) for c in dict.fromkeys(visibility["companies"])]
                    shares.extend(
                        (self._new_id(), company_id, kind, entry["key"], audience)
                        for audience in audiences
                    )
        yield self._batch("record_templates", templates)
        yield self._batch("field_shares", shares)

    def _owners(self) -> list[int]:
        """The owner company of each record, in creation order."""
        rng, scale = self.rng, self.scale
        ordinary = list(self.ordinary)
        rest = scale.records - scale.large_owned - scale.small_owned - scale.export_rows
        if rest < len(ordinary):
            raise ValueError("too few records for the companies of this scale")
        # a few busy companies and a long tail, as in a real network
        weights = [min(rng.paretovariate(1.3), 40.0) for _ in ordinary]
        owners = rng.choices(ordinary, weights=weights, k=rest)
        owners += [LARGE] * scale.large_owned + [SMALL] * scale.small_owned
        owners += [TARGET] * scale.export_rows
        rng.shuffle(owners)
        return owners

    def _placements(self, owners: list[int]) -> dict[int, list[tuple[int, str]]]:
        """Records of partners where the large and the small viewer take part (record index ->
        [(company, status)]): exactly `*_shared` active, and some invited or left."""
        placed: dict[int, list[tuple[int, str]]] = {}
        for viewer, active in ((LARGE, self.scale.large_shared), (SMALL, self.scale.small_shared)):
            partners = self.partners[viewer]
            candidates = [
                i for i, owner in enumerate(owners) if owner in partners and owner != TARGET
            ]
            extra = max(2, active // 50)  # ~2% invitations, ~2% records it left
            if len(candidates) < active + 2 * extra:
                raise ValueError(f"too few partner records to place company {viewer}")
            chosen = self.rng.sample(candidates, active + 2 * extra)
            statuses = [ACTIVE] * active + [INVITED] * extra + [LEFT] * extra
            for index, status in zip(chosen, statuses, strict=True):
                placed.setdefault(index, []).append((viewer, status))
        return placed

    def _records(self, on_records: Callable[[int], None] | None) -> Iterator[Batch]:
        """Opportunities and leads interleaved in time (ids in creation order), then the joint
        plans; with each record its participants, spaces, grants, history and search rows."""
        rng, scale = self.rng, self.scale
        owners = self._owners()
        placements = self._placements(owners)
        # on the records it owns: its auto-share rule invites there (elsewhere it only proposes)
        large_owned = [i for i, owner in enumerate(owners) if owner == LARGE]
        emea = set(rng.sample(large_owned, scale.rule_matches))
        target_owned = [i for i, owner in enumerate(owners) if owner == TARGET]
        emea |= set(rng.sample(target_owned, scale.export_rows // 10))
        ordinary = list(self.ordinary)
        lead_weights = [min(rng.paretovariate(1.3), 40.0) for _ in ordinary]
        lead_owners = rng.choices(ordinary, weights=lead_weights, k=scale.leads)
        total = scale.records + scale.leads
        lead_at = set(rng.sample(range(total), scale.leads))
        # partners a record's owner invites at random (the viewers and the target are placed)
        pickable = [sorted(p - {LARGE, SMALL, TARGET}) for p in self.partners]
        amounts = [Decimal(rng.randrange(100_000, 250_000_000)).scaleb(-2) for _ in range(4096)]
        close_dates = [date(2025, 1, 1) + timedelta(days=d) for d in range(900)]
        customs = [self._custom() for _ in range(512)]
        customers = [
            (f"{rng.choice(NAME_PARTS)}{rng.choice(NAME_PARTS).lower()} {suffix}", f"{n}.cust")
            for n, suffix in enumerate(rng.choices(CUSTOMER_SUFFIXES, k=5000))
        ]
        customers = [
            (name, f"{name.split()[0].lower()}{domain}.example") for name, domain in customers
        ]
        out = _Rows(on_records)
        search = out.search
        custom_texts = [search.custom_entries(custom) for custom in customs]
        # each distinct text's search terms, computed once (a title's are its customer's and
        # its product's: "Atlasorbit Bank - Cloud migration" -> "atlasorbit bank cloud migration")
        customer_terms = [
            (name, search.terms(name), domain, search.terms(domain)) for name, domain in customers
        ]
        product_terms = {product: search.terms(product) for product in PRODUCTS}
        stage_terms = {stage: search.terms(stage) for stage in STAGES}
        later = [timedelta(hours=h) for h in range(1, 24 * 30, 7)]
        base_ms = int(BASE_TIME.timestamp() * 1000)
        home_region, currency = self.home_region, self.currency
        step_ms = max(1, RECORD_SPAN_MS // (total + scale.plans))
        company_ids, user_ids = self.company_ids, self.user_ids
        participation_keys = [PARTICIPANT_PREFIX + str(c) for c in company_ids]
        random_ = rng.random
        uuid7 = self._uuid7
        # opportunities a company owns with an active partner: what its joint plans link to
        plan_pipeline: list[list[uuid.UUID]] = [[] for _ in company_ids]
        plan_partners: list[list[int]] = [[] for _ in company_ids]

        def pick(options: Sequence[T]) -> T:  # rng.choice, three times faster
            return options[int(random_() * len(options))]

        opportunity = lead = 0
        for t in range(total):
            if t in lead_at:
                kind, owner, index = LEAD, lead_owners[lead], -1
                lead += 1
            else:
                kind, owner, index = KIND, owners[opportunity], opportunity
                opportunity += 1
            record_id = uuid7(base_ms + t * step_ms)
            created = BASE_TIME + timedelta(milliseconds=t * step_ms)
            owner_id = company_ids[owner]
            creator = pick(user_ids[owner])
            customer, customer_words, domain, domain_words = pick(customer_terms)
            product = pick(PRODUCTS)
            product_words = product_terms[product]
            title = f"{customer} - {product}"
            out.records.append(
                (
                    record_id, kind, title, customer, domain, None, owner_id,
                    pick(MOTIONS), "", pick(JOINT_STAGES), 1, creator, created, created,
                )
            )  # fmt: skip
            sid = search.next_id
            out.search_entries += (
                (sid, record_id, kind, None, "title", title, f"{customer_words} {product_words}"),
                (sid + 1, record_id, kind, None, "customer_name", customer, customer_words),
                (sid + 2, record_id, kind, None, "customer_domain", domain, domain_words),
            )
            search.next_id = sid + 3
            roll = random_()
            extras = 0 if roll < 0.15 else 1 if roll < 0.5 else 2 if roll < 0.85 else 3
            candidates = pickable[owner]
            taking: list[tuple[int, str]] = [(owner, ACTIVE)]
            chosen: set[int] = set()
            while len(chosen) < min(extras, len(candidates)):
                company = pick(candidates)
                if company in chosen:
                    continue
                chosen.add(company)
                roll = random_()
                status = (
                    ACTIVE if roll < 0.88 else INVITED if roll < 0.94 else LEFT
                    if roll < 0.97 else REMOVED
                )  # fmt: skip
                taking.append((company, status))
            if index >= 0:
                taking.extend(placements.get(index, ()))
            for company, status in taking:
                company_id = company_ids[company]
                out.participants.append(
                    (
                        record_id, company_id, status, owner_id, creator, created,
                        None if status == INVITED else created, "manual",
                    )
                )  # fmt: skip
                if company != owner:
                    actor = creator if status in (INVITED, REMOVED) else pick(user_ids[company])
                    actor_company = owner_id if actor == creator else company_id
                    out.change(
                        record_id, kind, None, participation_keys[company],
                        PREVIOUS_STATUS[status], status, actor, actor_company,
                        created + pick(later),
                    )  # fmt: skip
                if status in (ACTIVE, LEFT):  # a company that accepted once has a space
                    if company in (LARGE, TARGET):  # EMEA exactly where the figures want it
                        region = "emea" if index in emea else pick(OTHER_REGIONS)
                    else:
                        region = home_region[company] if random_() < 0.7 else pick(REGIONS)
                    owner_user = pick(user_ids[company])
                    stage = pick(STAGES)
                    custom_at = int(random_() * len(customs))
                    out.spaces.append(
                        (
                            record_id, company_id, 1, pick(amounts), currency[company],
                            stage, pick(FORECAST), pick(close_dates), owner_user, region,
                            pick(INDUSTRIES), product, customs[custom_at], created, owner_user,
                        )
                    )  # fmt: skip
                    sid = search.next_id
                    out.search_entries += (
                        (sid, record_id, kind, company_id, "stage", stage, stage_terms[stage]),
                        (sid + 1, record_id, kind, company_id, "product", product, product_words),
                    )
                    sid += 2
                    for key, content, words in custom_texts[custom_at]:
                        out.search_entries.append(
                            (sid, record_id, kind, company_id, key, content, words)
                        )
                        sid += 1
                    search.next_id = sid
                    if company == owner:  # the stage moved once since creation
                        out.change(
                            record_id, kind, company_id, "stage", STAGE_BEFORE[stage], stage,
                            owner_user, company_id, created + pick(later),
                        )  # fmt: skip
                if status == ACTIVE:
                    out.grants.append(
                        (company_id, kind, COMPANY_WIDE, record_id, True, "participant")
                    )
            shared = kind == KIND and owner > TARGET and len(taking) > 1
            if shared and len(plan_pipeline[owner]) < PLAN_LINKS:
                plan_pipeline[owner].append(record_id)
                plan_partners[owner].extend(c for c, s in taking[1:] if s == ACTIVE)
            if len(out.records) == RECORD_CHUNK:
                yield from out.flush(self)
        yield from self._plans(out, total, step_ms, plan_pipeline, plan_partners, pick)
        yield from out.flush(self)

    def _plans(
        self,
        out: _Rows,
        first: int,
        step_ms: int,
        pipeline: list[list[uuid.UUID]],
        partners_on: list[list[int]],
        pick: Callable[[Sequence[Any]], Any],
    ) -> Iterator[Batch]:
        """Joint sales plans: an owner and one or two partners it co-sells with (all active),
        an empty space each, the plan's period and status, and links to the owner's shared
        opportunities (role `pipeline`)."""
        owners = [c for c in self.ordinary if pipeline[c] and partners_on[c]]
        if not owners and self.scale.plans:
            raise ValueError("no company has a shared opportunity to put on a plan")
        base_ms = int(BASE_TIME.timestamp() * 1000)
        for n in range(self.scale.plans):
            t = first + n
            record_id = self._uuid7(base_ms + t * step_ms)
            created = BASE_TIME + timedelta(milliseconds=t * step_ms)
            owner = owners[n % len(owners)]
            owner_id = self.company_ids[owner]
            creator = self.user_ids[owner][0]
            on_deals = partners_on[owner]
            partners = sorted(set(self.rng.sample(on_deals, min(len(on_deals), 1 + n % 2))))
            title = f"FY{25 + n % 2} joint plan {n + 1}: {pick(PRODUCTS)}"
            out.records.append(
                (
                    record_id, PLAN, title, "", None, None, owner_id, None, "", None, 1,
                    creator, created, created,
                )
            )  # fmt: skip
            out.search.core(out, record_id, PLAN, title, "", None)
            for company in [owner, *partners]:
                company_id = self.company_ids[company]
                user = self.user_ids[company][0]
                out.participants.append(
                    (record_id, company_id, ACTIVE, owner_id, creator, created, created, "manual")
                )
                out.spaces.append(
                    (
                        record_id, company_id, 1, None, None, None, None, None, user, None,
                        None, None, {}, created, user,
                    )
                )  # fmt: skip
                out.grants.append((company_id, PLAN, COMPANY_WIDE, record_id, True, "participant"))
                if company != owner:
                    out.change(
                        record_id, PLAN, None, PARTICIPANT_PREFIX + str(company_id), INVITED,
                        ACTIVE, user, company_id, created,
                    )  # fmt: skip
            year = 2025 + n % 2
            out.plan_details.append(
                (
                    record_id, None, date(year, 1, 1), date(year, 12, 31), "active", 1, created,
                    creator,
                )
            )  # fmt: skip
            out.plan_records.extend(
                (record_id, linked, KIND, "pipeline", owner_id, creator, created)
                for linked in pipeline[owner]
            )
            if len(out.records) == RECORD_CHUNK:
                yield from out.flush(self)

    def _custom(self) -> dict[str, Any]:
        rng = self.rng
        custom: dict[str, Any] = {
            "deal_type": rng.choice(("new_business", "expansion", "renewal")),
            "partner_sourced": rng.random() < 0.4,
            "probability": rng.randrange(5, 100, 5),
        }
        if rng.random() < 0.6:
            custom["competitors"] = sorted(rng.sample(COMPETITORS, rng.randrange(0, 3)))
        step = rng.choice(NEXT_STEPS)
        if step:
            custom["next_step"] = step
        if rng.random() < 0.3:
            custom["internal_notes"] = "Champion moved teams; re-qualify budget before QBR."
        return custom


PLAN_LINKS = 8  # opportunities a joint plan links
# a participant's last logged status change: from what, to what
PREVIOUS_STATUS: dict[str, str | None] = {
    INVITED: None,
    ACTIVE: INVITED,
    LEFT: ACTIVE,
    REMOVED: ACTIVE,
}
STAGE_BEFORE = {stage: STAGES[(i - 1) % len(STAGES)] for i, stage in enumerate(STAGES)}


class _SearchTerms:
    """The `search_entries` rows `coterie.records.search` writes for a record's core and a
    space's text fields (`core_entries`, `space_entries`), with each distinct text's normalized
    terms computed once."""

    def __init__(self) -> None:
        self.next_id = 1
        self._terms: dict[str, str] = {}

    def terms(self, content: str) -> str:
        found = self._terms.get(content)
        if found is None:
            found = " ".join(search_terms(content))
            self._terms[content] = found
        return found

    def custom_entries(self, custom: dict[str, Any]) -> list[tuple[str, str, str]]:
        """(key, content, terms) of a space's custom text fields, in `space_entries` order."""
        types = {key: spec.get("type") for key, spec in CUSTOM_FIELDS.items()}
        return [
            (key, value, self.terms(value))
            for key, value in sorted(custom.items())
            if types.get(key) in ("text", "long_text") and isinstance(value, str)
            if self.terms(value)
        ]

    def _add(
        self,
        out: _Rows,
        record_id: uuid.UUID,
        kind: str,
        owner: uuid.UUID | None,
        key: str,
        content: str | None,
    ) -> None:
        if not content:
            return
        terms = self.terms(content)
        if terms:
            out.search_entries.append((self.next_id, record_id, kind, owner, key, content, terms))
            self.next_id += 1

    def core(
        self,
        out: _Rows,
        record_id: uuid.UUID,
        kind: str,
        title: str,
        customer: str,
        domain: str | None,
    ) -> None:
        # CORE_FIELDS order: title, customer name, customer domain (descriptions are empty)
        self._add(out, record_id, kind, None, "title", title)
        self._add(out, record_id, kind, None, "customer_name", customer)
        self._add(out, record_id, kind, None, "customer_domain", domain)


class _Rows:
    """The rows of the records generated since the last flush, table by table."""

    TABLES = (
        "records", "record_participants", "record_spaces", "record_access", "plan_details",
        "plan_records", "record_changes", "search_entries",
    )  # fmt: skip

    def __init__(self, on_records: Callable[[int], None] | None) -> None:
        self.search = _SearchTerms()
        self.on_records = on_records
        self._reset()

    def _reset(self) -> None:
        self.records: list[tuple[Any, ...]] = []
        self.participants: list[tuple[Any, ...]] = []
        self.spaces: list[tuple[Any, ...]] = []
        self.grants: list[tuple[Any, ...]] = []
        self.plan_details: list[tuple[Any, ...]] = []
        self.plan_records: list[tuple[Any, ...]] = []
        self.changes: list[tuple[Any, ...]] = []
        self.search_entries: list[tuple[Any, ...]] = []

    def change(
        self,
        record_id: uuid.UUID,
        kind: str,
        company_id: uuid.UUID | None,
        key: str,
        old: Any,
        new: Any,
        actor_user: uuid.UUID,
        actor_company: uuid.UUID,
        at: datetime,
    ) -> None:
        self.changes.append(
            (change_id(at, len(self.changes), record_id), record_id, kind, company_id, key,
             old, new, actor_user, actor_company, at)
        )  # fmt: skip

    def flush(self, generator: Generator) -> Iterator[Batch]:
        tables = (
            self.records, self.participants, self.spaces, self.grants, self.plan_details,
            self.plan_records, self.changes, self.search_entries,
        )  # fmt: skip
        batches = [
            generator._batch(table, rows)
            for table, rows in zip(self.TABLES, tables, strict=True)
            if rows
        ]
        count = len(self.records)
        self._reset()
        yield from batches
        if self.on_records is not None and count:
            self.on_records(count)


def change_id(at: datetime, n: int, record_id: uuid.UUID) -> uuid.UUID:
    """A UUIDv7 for a history row: its instant, and bits of its record's id and position (so
    the same seed gives the same ids without drawing from the generator's random stream)."""
    ms = (at - _EPOCH) // _MILLISECOND
    return uuid7_of(ms, (record_id.int ^ (n * 0x9E3779B97F4A7C15)) & ((1 << 74) - 1))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
_SAFE_UNKNOWN = uuid.SafeUUID.unknown
_set = object.__setattr__


def uuid7_of(ms: int, rand: int) -> uuid.UUID:
    """The UUIDv7 of the instant `ms` (Unix milliseconds) with 74 random bits `rand`. Built
    without `UUID.__init__`'s argument checks: a fifth of the generator's time went there."""
    value = (ms << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & _LOW_62)
    made = object.__new__(uuid.UUID)
    _set(made, "int", value)
    _set(made, "is_safe", _SAFE_UNKNOWN)
    return made


_LOW_62 = (1 << 62) - 1
