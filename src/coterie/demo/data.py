"""The demo network as data: fictional companies, their people, and who partners with whom.

Every domain is under the reserved `.example` top-level domain (RFC 2606), so no demo address
can ever reach a real mailbox. Times are given in days before the moment the demo is loaded, so
the network always looks lived-in ("partners since March") whenever it is loaded.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from coterie.models.vocabulary import (
    CompanySize,
    Industry,
    PartnershipStatus,
    PartnerType,
    Region,
    Role,
)
from coterie.network.schemas import CompanyIn

ADMIN, MANAGER, MEMBER = Role.ADMIN, Role.MANAGER, Role.MEMBER
ACTIVE, PENDING, DECLINED, REVOKED = (
    PartnershipStatus.ACTIVE,
    PartnershipStatus.PENDING,
    PartnershipStatus.DECLINED,
    PartnershipStatus.REVOKED,
)
ALL_REGIONS = tuple(Region)

PARTNER_TYPE_LABELS: dict[PartnerType, str] = {
    PartnerType.HYPERSCALER: "Hyperscaler",
    PartnerType.ISV: "ISV",
    PartnerType.SI: "SI",
    PartnerType.RESELLER: "Reseller",
    PartnerType.MSP: "MSP",
    PartnerType.HARDWARE: "Hardware vendor",
}


_GERMAN = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)


def email_local_part(name: str) -> str:
    """`first.last` in plain ASCII, the way companies spell it.

    "João Pereira" -> "joao.pereira", "Lena Schäfer" -> "lena.schaefer",
    "Sanne de Vries" -> "sanne.devries".
    """
    plain = unicodedata.normalize("NFKD", name.translate(_GERMAN)).encode("ascii", "ignore")
    words = ["".join(ch for ch in word if ch.isalnum()).lower() for word in plain.decode().split()]
    first, *rest = [word for word in words if word]
    return f"{first}.{''.join(rest)}"


@dataclass(frozen=True)
class Person:
    name: str
    title: str
    role: Role


@dataclass(frozen=True)
class CompanySpec:
    name: str
    domain: str
    partner_types: tuple[PartnerType, ...]
    industry: Industry
    regions: tuple[Region, ...]
    hq_country: str
    size: CompanySize
    currency: str
    description: str
    people: tuple[Person, ...]
    joined_days_ago: int
    focus: str  # what it is known for, in two or three words

    @property
    def label(self) -> str:
        """E.g. "ISV: CRM" or "Reseller, MSP: US and LATAM"."""
        kinds = ", ".join(PARTNER_TYPE_LABELS[t] for t in self.partner_types)
        return f"{kinds}: {self.focus}"

    @property
    def website(self) -> str:
        return f"https://www.{self.domain}"

    def profile(self) -> CompanyIn:
        """The company as signup would receive it (validated like any other)."""
        return CompanyIn(
            name=self.name,
            domain=self.domain,
            industry=self.industry,
            regions=list(self.regions),
            hq_country=self.hq_country,
            description=self.description,
            size=self.size,
            partner_types=list(self.partner_types),
            currency=self.currency,
            website=self.website,
        )

    def email_of(self, person: Person) -> str:
        return f"{email_local_part(person.name)}@{self.domain}"

    def first(self, role: Role) -> Person:
        return next(p for p in self.people if p.role == role)


@dataclass(frozen=True)
class PartnershipSpec:
    """One partnership's history: requested, then (unless pending) answered, maybe ended.

    `ended_by` names the domain of the company that revoked an active partnership.
    """

    requester: str
    recipient: str
    status: PartnershipStatus
    requested_days_ago: int
    message: str = ""
    answered_after_days: int = 0
    ended_days_ago: int | None = None
    ended_by: str | None = None


COMPANIES: tuple[CompanySpec, ...] = (
    CompanySpec(
        name="Nimbus Cloud",
        domain="nimbus-cloud.example",
        partner_types=(PartnerType.HYPERSCALER,),
        industry=Industry.CLOUD,
        regions=ALL_REGIONS,
        hq_country="US",
        size=CompanySize.S5001_PLUS,
        currency="USD",
        description=(
            "Public cloud platform: compute, storage, managed databases and AI services in 34 "
            "regions. The Nimbus Partner Network co-sells with ISVs listed on the Nimbus "
            "Marketplace and funds migration projects delivered by SI partners."
        ),
        people=(
            Person("Dana Whitfield", "VP, Global Partner Ecosystem", ADMIN),
            Person("Marcus Oyelaran", "ISV Partner Development Manager", MANAGER),
            Person("Priya Raman", "SI Alliance Manager", MANAGER),
            Person("Kevin Brandt", "Partner Solutions Architect", MEMBER),
            Person("Sofia Marquez", "Marketplace Co-Sell Specialist", MEMBER),
            Person("Jasmine Cho", "Partner Funding Programs Lead", MEMBER),
        ),
        joined_days_ago=540,
        focus="public cloud",
    ),
    CompanySpec(
        name="Relay CRM",
        domain="relay-crm.example",
        partner_types=(PartnerType.ISV,),
        industry=Industry.SOFTWARE,
        regions=(Region.NORTH_AMERICA, Region.EMEA),
        hq_country="US",
        size=CompanySize.S1001_5000,
        currency="USD",
        description=(
            "CRM for B2B sales teams: pipeline, forecasting and account planning, with native "
            "connectors to the major ERPs. Sold direct and through SI and reseller partners."
        ),
        people=(
            Person("Hannah Brooks", "Director of Alliances", ADMIN),
            Person("Diego Alvarez", "Partner Manager, Cloud Alliances", MANAGER),
            Person("Megan Foster", "Channel Account Manager", MEMBER),
            Person("Aaron Patel", "Solutions Engineer", MEMBER),
        ),
        joined_days_ago=500,
        focus="CRM",
    ),
    CompanySpec(
        name="Bastion Security",
        domain="bastion-security.example",
        partner_types=(PartnerType.ISV,),
        industry=Industry.SOFTWARE,
        regions=(Region.NORTH_AMERICA, Region.EMEA, Region.APAC),
        hq_country="IL",
        size=CompanySize.S1001_5000,
        currency="USD",
        description=(
            "Cloud security posture management and identity threat detection for multi-cloud "
            "estates. Available on the Nimbus Marketplace; delivered with SI and MSP partners."
        ),
        people=(
            Person("Noa Friedman", "VP, Channels and Alliances", ADMIN),
            Person("Eitan Levi", "Global SI Alliance Director", MANAGER),
            Person("Maya Cohen", "Partner Marketing Manager", MEMBER),
            Person("Omer Shapiro", "Partner Sales Engineer", MEMBER),
        ),
        joined_days_ago=470,
        focus="security",
    ),
    CompanySpec(
        name="Quarry Analytics",
        domain="quarry-analytics.example",
        partner_types=(PartnerType.ISV,),
        industry=Industry.SOFTWARE,
        regions=(Region.EMEA, Region.NORTH_AMERICA),
        hq_country="GB",
        size=CompanySize.S201_1000,
        currency="GBP",
        description=(
            "Data platform and self-service analytics: ingest, model and share governed metrics. "
            "Partners build industry data products on Quarry and resell it with their services."
        ),
        people=(
            Person("Oliver Bennett", "Head of Partnerships", ADMIN),
            Person("Charlotte Hughes", "Technology Partner Manager", MANAGER),
            Person("Aisha Rahman", "SI Partner Manager", MANAGER),
            Person("George Whitaker", "Partner Account Executive", MEMBER),
            Person("Emily Clarke", "Data Solutions Architect", MEMBER),
        ),
        joined_days_ago=430,
        focus="data and analytics",
    ),
    CompanySpec(
        name="Tandem People",
        domain="tandem-people.example",
        partner_types=(PartnerType.ISV,),
        industry=Industry.SOFTWARE,
        regions=(Region.EMEA,),
        hq_country="NL",
        size=CompanySize.S201_1000,
        currency="EUR",
        description=(
            "HR and people platform for mid-sized European employers: core HR, payroll "
            "integrations, performance reviews and workforce planning."
        ),
        people=(
            Person("Sanne de Vries", "Director of Partnerships", ADMIN),
            Person("Joris Bakker", "Alliance Manager", MANAGER),
            Person("Lotte Janssen", "Partner Success Manager", MEMBER),
        ),
        joined_days_ago=380,
        focus="HR",
    ),
    CompanySpec(
        name="Carewell Health",
        domain="carewell-health.example",
        partner_types=(PartnerType.ISV,),
        industry=Industry.HEALTHCARE,
        regions=(Region.NORTH_AMERICA,),
        hq_country="CA",
        size=CompanySize.S51_200,
        currency="CAD",
        description=(
            "Patient engagement and care-coordination software for hospital networks and "
            "clinics, hosted on Nimbus Cloud and implemented by SI partners."
        ),
        people=(
            Person("Maxime Tremblay", "Director of Partnerships", ADMIN),
            Person("Amira Haddad", "Partner Manager", MANAGER),
            Person("Ethan MacDonald", "Implementation Consultant", MEMBER),
        ),
        joined_days_ago=250,
        focus="healthcare",
    ),
    CompanySpec(
        name="Lattice Pay",
        domain="lattice-pay.example",
        partner_types=(PartnerType.ISV,),
        industry=Industry.FINANCIAL_SERVICES,
        regions=(Region.APAC,),
        hq_country="SG",
        size=CompanySize.S51_200,
        currency="SGD",
        description=(
            "Payments and reconciliation APIs for B2B marketplaces across Southeast Asia. New "
            "to the network and building its first alliances."
        ),
        people=(
            Person("Rachel Tan", "Co-founder and Chief Partnerships Officer", ADMIN),
            Person("Arjun Menon", "Partnerships Manager", MANAGER),
            Person("Farah Ismail", "Business Development Associate", MEMBER),
        ),
        joined_days_ago=90,
        focus="payments",
    ),
    CompanySpec(
        name="Meridian Consulting Group",
        domain="meridian-consulting.example",
        partner_types=(PartnerType.SI,),
        industry=Industry.IT_SERVICES,
        regions=ALL_REGIONS,
        hq_country="IE",
        size=CompanySize.S5001_PLUS,
        currency="USD",
        description=(
            "Global systems integrator: cloud migration, CRM and data transformation, managed "
            "security. Practices aligned with the leading hyperscaler and ISV partners."
        ),
        people=(
            Person("Catherine Doyle", "Global Head of Alliances", ADMIN),
            Person("Rajesh Iyer", "Cloud Alliance Lead", MANAGER),
            Person("Fiona Gallagher", "ISV Alliance Manager", MANAGER),
            Person("Liam Byrne", "Client Partner, Financial Services", MEMBER),
            Person("Aoife Murphy", "Delivery Lead, CRM Practice", MEMBER),
            Person("Daniel Okoro", "Solution Architect, Data and AI", MEMBER),
        ),
        joined_days_ago=520,
        focus="global",
    ),
    CompanySpec(
        name="Altmark Consulting",
        domain="altmark-consulting.example",
        partner_types=(PartnerType.SI,),
        industry=Industry.IT_SERVICES,
        regions=(Region.EMEA,),
        hq_country="DE",
        size=CompanySize.S201_1000,
        currency="EUR",
        description=(
            "Systems integrator for the German-speaking and Nordic mid-market: CRM and HR "
            "implementations, data platforms and cloud operations."
        ),
        people=(
            Person("Katrin Vogel", "Managing Director, Alliances", ADMIN),
            Person("Jonas Hoffmann", "Partner Manager", MANAGER),
            Person("Lena Schäfer", "Senior Consultant, CRM", MEMBER),
            Person("Felix Wagner", "Cloud Architect", MEMBER),
        ),
        joined_days_ago=360,
        focus="EMEA",
    ),
    CompanySpec(
        name="Hoshino Systems",
        domain="hoshino-systems.example",
        partner_types=(PartnerType.SI,),
        industry=Industry.IT_SERVICES,
        regions=(Region.APAC,),
        hq_country="JP",
        size=CompanySize.S1001_5000,
        currency="JPY",
        description=(
            "Systems integrator for Japanese manufacturers and financial institutions: "
            "core-system modernisation, security operations and analytics, from Tokyo and Osaka."
        ),
        people=(
            Person("Haruka Sato", "General Manager, Alliances", ADMIN),
            Person("Kenji Watanabe", "Alliance Manager, Cloud", MANAGER),
            Person("Yuki Tanaka", "Account Manager", MEMBER),
            Person("Daisuke Kobayashi", "Infrastructure Architect", MEMBER),
        ),
        joined_days_ago=330,
        focus="APAC",
    ),
    CompanySpec(
        name="Tidewater Managed Services",
        domain="tidewater-ms.example",
        partner_types=(PartnerType.RESELLER, PartnerType.MSP),
        industry=Industry.IT_SERVICES,
        regions=(Region.NORTH_AMERICA, Region.LATIN_AMERICA),
        hq_country="US",
        size=CompanySize.S201_1000,
        currency="USD",
        description=(
            "Value-added reseller and managed service provider for mid-market companies in the "
            "US and Latin America: licensing, 24x7 cloud operations and managed security."
        ),
        people=(
            Person("Brian Callahan", "VP, Vendor Alliances", ADMIN),
            Person("Tasha Reynolds", "Vendor Manager", MANAGER),
            Person("Carlos Mendoza", "Account Executive, LATAM", MEMBER),
            Person("Jenna Walsh", "Renewals Specialist", MEMBER),
        ),
        joined_days_ago=300,
        focus="North and Latin America",
    ),
    CompanySpec(
        name="Cerrado Tecnologia",
        domain="cerrado-tecnologia.example",
        partner_types=(PartnerType.RESELLER,),
        industry=Industry.IT_SERVICES,
        regions=(Region.LATIN_AMERICA,),
        hq_country="BR",
        size=CompanySize.S201_1000,
        currency="BRL",
        description=(
            "Software reseller and distributor for Brazil and the Southern Cone: licensing, "
            "localisation, first-line support and billing in reais."
        ),
        people=(
            Person("Mariana Costa", "Director of Alliances", ADMIN),
            Person("Rafael Oliveira", "Vendor Manager", MANAGER),
            Person("Beatriz Souza", "Inside Sales Representative", MEMBER),
            Person("João Pereira", "Pre-sales Engineer", MEMBER),
        ),
        joined_days_ago=200,
        focus="Latin America",
    ),
    CompanySpec(
        name="Ironbark Systems",
        domain="ironbark-systems.example",
        partner_types=(PartnerType.HARDWARE,),
        industry=Industry.HARDWARE,
        regions=(Region.APAC, Region.NORTH_AMERICA),
        hq_country="AU",
        size=CompanySize.S1001_5000,
        currency="AUD",
        description=(
            "Servers, hyperconverged appliances and ruggedised edge hardware, certified for the "
            "major clouds and shipped with partner-installed software stacks."
        ),
        people=(
            Person("Lachlan Reid", "Head of Channel", ADMIN),
            Person("Chloe Nguyen", "Alliance Manager, SI Partners", MANAGER),
            Person("Mitchell Harris", "Partner Systems Engineer", MEMBER),
            Person("Ella Thompson", "Channel Marketing Specialist", MEMBER),
        ),
        joined_days_ago=280,
        focus="servers and edge",
    ),
)

NIMBUS = "nimbus-cloud.example"
RELAY = "relay-crm.example"
BASTION = "bastion-security.example"
QUARRY = "quarry-analytics.example"
TANDEM = "tandem-people.example"
CAREWELL = "carewell-health.example"
LATTICE = "lattice-pay.example"
MERIDIAN = "meridian-consulting.example"
ALTMARK = "altmark-consulting.example"
HOSHINO = "hoshino-systems.example"
TIDEWATER = "tidewater-ms.example"
CERRADO = "cerrado-tecnologia.example"
IRONBARK = "ironbark-systems.example"

PARTNERSHIPS: tuple[PartnershipSpec, ...] = (
    # The hyperscaler with most ISVs and SIs.
    PartnershipSpec(
        NIMBUS,
        MERIDIAN,
        ACTIVE,
        510,
        "Let's formalise our migration practice partnership on the Nimbus Partner Network.",
        answered_after_days=2,
    ),
    PartnershipSpec(
        NIMBUS,
        RELAY,
        ACTIVE,
        480,
        "We'd like to list Relay CRM on the Nimbus Marketplace and co-sell in North America.",
        answered_after_days=3,
    ),
    PartnershipSpec(
        BASTION,
        NIMBUS,
        ACTIVE,
        450,
        "Bastion is Nimbus-validated; we'd like to join the security co-sell program.",
        answered_after_days=6,
    ),
    PartnershipSpec(
        QUARRY,
        NIMBUS,
        ACTIVE,
        420,
        "Quarry runs natively on Nimbus: can we co-sell the analytics migration offer?",
        answered_after_days=10,
    ),
    PartnershipSpec(
        TANDEM,
        NIMBUS,
        ACTIVE,
        360,
        "Applying to the ISV Accelerate program for our EMEA launch.",
        answered_after_days=14,
    ),
    PartnershipSpec(
        NIMBUS,
        ALTMARK,
        ACTIVE,
        340,
        "Your DACH migration work keeps coming up in our deals: let's partner.",
        answered_after_days=5,
    ),
    PartnershipSpec(
        HOSHINO,
        NIMBUS,
        ACTIVE,
        320,
        "Hoshino would like to become a Nimbus consulting partner in Japan.",
        answered_after_days=9,
    ),
    PartnershipSpec(
        TIDEWATER,
        NIMBUS,
        ACTIVE,
        290,
        "Requesting reseller and managed-service partner status for the US and LATAM.",
        answered_after_days=4,
    ),
    PartnershipSpec(
        CAREWELL,
        NIMBUS,
        ACTIVE,
        240,
        "Carewell is hosted on Nimbus; we'd like to co-sell into hospital networks.",
        answered_after_days=7,
    ),
    # ISVs with SIs.
    PartnershipSpec(
        MERIDIAN,
        RELAY,
        ACTIVE,
        470,
        "Our CRM practice implements Relay for three banks already: let's make it official.",
        answered_after_days=4,
    ),
    PartnershipSpec(
        MERIDIAN,
        BASTION,
        ACTIVE,
        440,
        "Adding Bastion to our managed security offering.",
        answered_after_days=3,
    ),
    PartnershipSpec(
        QUARRY,
        MERIDIAN,
        ACTIVE,
        410,
        "Would Meridian's Data and AI practice co-sell Quarry to financial services?",
        answered_after_days=8,
    ),
    PartnershipSpec(
        MERIDIAN,
        TANDEM,
        ACTIVE,
        350,
        "We see demand for Tandem in our European HR transformation projects.",
        answered_after_days=6,
    ),
    PartnershipSpec(
        CAREWELL,
        MERIDIAN,
        ACTIVE,
        230,
        "Looking for an implementation partner for two hospital networks in Ontario.",
        answered_after_days=5,
    ),
    PartnershipSpec(
        ALTMARK,
        RELAY,
        ACTIVE,
        330,
        "Altmark would like to implement Relay for German mid-market customers.",
        answered_after_days=3,
    ),
    PartnershipSpec(
        QUARRY,
        ALTMARK,
        ACTIVE,
        300,
        "Partnering on data platforms in DACH and the Nordics?",
        answered_after_days=2,
    ),
    PartnershipSpec(
        TANDEM,
        ALTMARK,
        ACTIVE,
        355,
        "You're our most active implementer in Germany: let's track joint deals here.",
        answered_after_days=1,
    ),
    PartnershipSpec(
        HOSHINO,
        BASTION,
        ACTIVE,
        310,
        "Our SOC customers ask for Bastion: we'd like to resell and operate it in Japan.",
        answered_after_days=12,
    ),
    PartnershipSpec(
        QUARRY,
        HOSHINO,
        ACTIVE,
        280,
        "Quarry is entering Japan and looking for a launch SI.",
        answered_after_days=15,
    ),
    PartnershipSpec(
        HOSHINO,
        LATTICE,
        ACTIVE,
        60,
        "Two of our retail clients need B2B payments in Southeast Asia.",
        answered_after_days=5,
    ),
    # ISVs with each other.
    PartnershipSpec(
        RELAY,
        QUARRY,
        ACTIVE,
        400,
        "Pipeline analytics integration: let's co-market the connector.",
        answered_after_days=2,
    ),
    PartnershipSpec(
        CAREWELL,
        BASTION,
        ACTIVE,
        220,
        "Hospitals ask us for security reviews: would you co-sell with us?",
        answered_after_days=6,
    ),
    # The resellers and MSP with ISVs.
    PartnershipSpec(
        TIDEWATER,
        RELAY,
        ACTIVE,
        280,
        "We'd like to resell Relay CRM to mid-market accounts.",
        answered_after_days=6,
    ),
    PartnershipSpec(
        TIDEWATER,
        BASTION,
        ACTIVE,
        285,
        "Adding Bastion to our managed security service.",
        answered_after_days=3,
    ),
    PartnershipSpec(
        TIDEWATER,
        QUARRY,
        ACTIVE,
        260,
        "Reselling Quarry with our managed data platform.",
        answered_after_days=11,
    ),
    PartnershipSpec(
        CERRADO,
        RELAY,
        ACTIVE,
        190,
        "Cerrado would like to distribute Relay CRM in Brazil, billed in reais.",
        answered_after_days=8,
    ),
    PartnershipSpec(
        CERRADO,
        QUARRY,
        ACTIVE,
        180,
        "Brazilian retailers ask us for Quarry: can we resell it?",
        answered_after_days=5,
    ),
    # The hardware vendor with SIs and the reseller.
    PartnershipSpec(
        IRONBARK,
        MERIDIAN,
        ACTIVE,
        270,
        "Edge appliances for your manufacturing clients: let's build a joint offer.",
        answered_after_days=4,
    ),
    PartnershipSpec(
        IRONBARK,
        HOSHINO,
        ACTIVE,
        265,
        "Certified hardware for your core-system modernisation projects.",
        answered_after_days=3,
    ),
    PartnershipSpec(
        ALTMARK,
        IRONBARK,
        ACTIVE,
        200,
        "We need an edge hardware partner for two Nordic utilities.",
        answered_after_days=10,
    ),
    PartnershipSpec(
        IRONBARK,
        TIDEWATER,
        ACTIVE,
        240,
        "Would Tidewater resell and operate Ironbark appliances?",
        answered_after_days=2,
    ),
    # Waiting for an answer, in both directions for Nimbus Cloud.
    PartnershipSpec(
        LATTICE,
        NIMBUS,
        PENDING,
        6,
        "Lattice Pay runs on Nimbus in Singapore; we'd like to join the Marketplace.",
    ),
    PartnershipSpec(
        NIMBUS,
        IRONBARK,
        PENDING,
        3,
        "Let's certify Ironbark appliances for Nimbus Edge.",
    ),
    PartnershipSpec(
        ALTMARK,
        BASTION,
        PENDING,
        9,
        "Our cloud operations clients ask for posture management: partner with us?",
    ),
    PartnershipSpec(
        RELAY,
        HOSHINO,
        PENDING,
        4,
        "Relay is launching in Japan: we're looking for an implementation partner.",
    ),
    PartnershipSpec(
        CAREWELL,
        TIDEWATER,
        PENDING,
        2,
        "Could Tidewater host and support Carewell for smaller clinics?",
    ),
    # Ended ones.
    PartnershipSpec(
        CERRADO,
        BASTION,
        DECLINED,
        150,
        "We'd like to distribute Bastion in Brazil.",
        answered_after_days=12,
    ),
    PartnershipSpec(
        TIDEWATER,
        TANDEM,
        REVOKED,
        270,
        "Reselling Tandem to US subsidiaries of European employers?",
        answered_after_days=5,
        ended_days_ago=45,
        ended_by=TANDEM,
    ),
)
