"""Deterministic company data and update streams.

Everything here is a pure function of the seed: the same seed gives the same companies, the
same update times and the same values on any machine. Distributions follow what a mid-size
B2B CRM holds: most companies are small, a few industries dominate, lifecycle stages skew to
the early funnel, and a minority of records receives most of the edits.
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

# The company properties every solution syncs, besides the read-only ones HubSpot maintains.
SYNCED_PROPERTIES: tuple[str, ...] = (
    "name",
    "domain",
    "industry",
    "lifecyclestage",
    "numberofemployees",
    "annualrevenue",
    "city",
    "country",
    "hubspot_owner_id",
    "createdate",
    "hs_lastmodifieddate",
)

# Properties a workload edits, with relative edit frequency.
EDITED_PROPERTIES: tuple[tuple[str, int], ...] = (
    ("lifecyclestage", 30),
    ("hubspot_owner_id", 20),
    ("numberofemployees", 15),
    ("annualrevenue", 15),
    ("industry", 6),
    ("city", 6),
    ("name", 4),
    ("domain", 4),
)

# HubSpot's default lifecycle stages, in funnel order, with a typical share of records.
LIFECYCLE_STAGES: tuple[tuple[str, int], ...] = (
    ("subscriber", 22),
    ("lead", 30),
    ("marketingqualifiedlead", 14),
    ("salesqualifiedlead", 10),
    ("opportunity", 9),
    ("customer", 12),
    ("evangelist", 2),
    ("other", 1),
)

# A subset of HubSpot's industry enumeration, weighted toward B2B software buyers.
INDUSTRIES: tuple[tuple[str, int], ...] = (
    ("COMPUTER_SOFTWARE", 18),
    ("INFORMATION_TECHNOLOGY_AND_SERVICES", 14),
    ("MARKETING_AND_ADVERTISING", 9),
    ("FINANCIAL_SERVICES", 8),
    ("HOSPITAL_HEALTH_CARE", 7),
    ("RETAIL", 6),
    ("CONSTRUCTION", 5),
    ("EDUCATION_MANAGEMENT", 5),
    ("MACHINERY", 5),
    ("REAL_ESTATE", 5),
    ("LOGISTICS_AND_SUPPLY_CHAIN", 4),
    ("TELECOMMUNICATIONS", 4),
    ("INTERNET", 6),
    ("MANAGEMENT_CONSULTING", 4),
)

CITIES: tuple[tuple[str, str, int], ...] = (
    ("New York", "United States", 10),
    ("San Francisco", "United States", 7),
    ("Austin", "United States", 4),
    ("Chicago", "United States", 4),
    ("Boston", "United States", 4),
    ("London", "United Kingdom", 8),
    ("Manchester", "United Kingdom", 2),
    ("Berlin", "Germany", 5),
    ("Munich", "Germany", 3),
    ("Paris", "France", 4),
    ("Amsterdam", "Netherlands", 3),
    ("Ljubljana", "Slovenia", 2),
    ("Dublin", "Ireland", 2),
    ("Toronto", "Canada", 3),
    ("Sydney", "Australia", 3),
    ("Singapore", "Singapore", 2),
    ("Sao Paulo", "Brazil", 2),
    ("Bangalore", "India", 3),
)

_NAME_HEADS = (
    "Acme", "Blue", "Bright", "Cedar", "Cloud", "Copper", "Delta", "Echo", "Field", "Granite",
    "Harbor", "Iron", "Juniper", "Kite", "Lumen", "Maple", "North", "Orbit", "Pine", "Quartz",
    "River", "Summit", "Tidal", "Union", "Vertex", "Willow", "Yellow", "Zephyr", "Atlas", "Beacon",
)  # fmt: skip
_NAME_TAILS = (
    "Labs", "Systems", "Analytics", "Logistics", "Health", "Works", "Partners", "Software",
    "Capital", "Foods", "Media", "Robotics", "Energy", "Studio", "Dynamics", "Networks",
)  # fmt: skip
_SUFFIXES = ("Inc", "LLC", "Ltd", "GmbH", "d.o.o.", "SA", "BV", "Group")

OWNER_COUNT = 40
# HubSpot user ids are 8-9 digit numbers; these are fixed so owners repeat across seeds.
OWNER_IDS: tuple[str, ...] = tuple(
    str(51_000_000 + 7_919 * i) for i in range(OWNER_COUNT)
)

YEAR_MS = 365 * 24 * 3600 * 1000


def _weighted(items: tuple[tuple[str, int], ...]) -> tuple[list[str], list[int]]:
    return [name for name, _ in items], [weight for _, weight in items]


_STAGE_NAMES, _STAGE_WEIGHTS = _weighted(LIFECYCLE_STAGES)
_INDUSTRY_NAMES, _INDUSTRY_WEIGHTS = _weighted(INDUSTRIES)
_EDITED_NAMES, _EDITED_WEIGHTS = _weighted(EDITED_PROPERTIES)
_CITY_WEIGHTS = [w for *_, w in CITIES]


class CompanyGenerator:
    """Makes realistic company property sets from one random stream."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._serial = 0

    def company(self) -> dict[str, str | None]:
        rng = self.rng
        self._serial += 1
        head = rng.choice(_NAME_HEADS)
        tail = rng.choice(_NAME_TAILS)
        name = f"{head} {tail} {rng.choice(_SUFFIXES)}"
        domain = f"{head}{tail}{self._serial}.example.com".lower()
        city, country, _ = rng.choices(CITIES, _CITY_WEIGHTS)[0]
        props: dict[str, str | None] = {
            "name": name,
            "domain": domain,
            "industry": rng.choices(_INDUSTRY_NAMES, _INDUSTRY_WEIGHTS)[0],
            "lifecyclestage": rng.choices(_STAGE_NAMES, _STAGE_WEIGHTS)[0],
            "numberofemployees": str(self.employees()),
            "annualrevenue": None,
            "city": city,
            "country": country,
            # About one company in ten has no owner yet, which HubSpot returns as null.
            "hubspot_owner_id": rng.choice(OWNER_IDS) if rng.random() > 0.1 else None,
        }
        # Revenue is often unknown for small companies.
        if rng.random() < 0.7:
            props["annualrevenue"] = str(
                self.revenue(int(props["numberofemployees"] or 1))
            )
        return props

    def employees(self) -> int:
        # Log-normal: a median near 25 staff, a long tail to tens of thousands.
        return max(1, min(250_000, round(math.exp(self.rng.gauss(3.2, 1.5)))))

    def revenue(self, employees: int) -> int:
        per_head = self.rng.lognormvariate(math.log(120_000), 0.6)
        return int(round(employees * per_head, -3))

    def new_value(self, prop: str, current: str | None) -> str | None:
        """Return a plausible next value for ``prop`` that differs from ``current``."""
        rng = self.rng
        for _ in range(8):
            if prop == "lifecyclestage":
                value: str | None = rng.choices(_STAGE_NAMES, _STAGE_WEIGHTS)[0]
            elif prop == "hubspot_owner_id":
                value = rng.choice(OWNER_IDS)
            elif prop == "numberofemployees":
                value = str(self.employees())
            elif prop == "annualrevenue":
                value = str(self.revenue(self.employees()))
            elif prop == "industry":
                value = rng.choices(_INDUSTRY_NAMES, _INDUSTRY_WEIGHTS)[0]
            elif prop == "city":
                value = rng.choices(CITIES, _CITY_WEIGHTS)[0][0]
            elif prop == "name":
                value = f"{rng.choice(_NAME_HEADS)} {rng.choice(_NAME_TAILS)} {rng.choice(_SUFFIXES)}"
            elif prop == "domain":
                value = f"{rng.choice(_NAME_HEADS).lower()}{rng.randrange(10**6)}.example.com"
            else:
                raise ValueError(f"no value model for property {prop!r}")
            if value != current:
                return value
        return f"{current}-{rng.randrange(10**6)}"


def generate_companies(
    count: int, seed: int, now_ms: int
) -> Iterator[tuple[dict[str, str | None], int, int]]:
    """Yield ``(properties, created_ms, modified_ms)`` for ``count`` existing companies.

    Creation dates spread over the five years before ``now_ms``, denser in recent years;
    the last modification falls between creation and ``now_ms``.
    """
    rng = random.Random(f"companies:{seed}")
    gen = CompanyGenerator(rng)
    for _ in range(count):
        props = gen.company()
        age = int(YEAR_MS * 5 * rng.random() ** 1.6) + 1
        created = now_ms - age
        modified = created + int((now_ms - created) * rng.random() ** 0.5)
        yield props, created, min(modified, now_ms - 1)


class Pattern(enum.Enum):
    """The distribution of update times and target companies."""

    UNIFORM = "uniform"  # Poisson arrivals, every live company equally likely
    BURSTY = "bursty"  # Poisson bursts of several edits within seconds
    HOT_KEYS = "hot-keys"  # Poisson arrivals, Zipf-skewed choice of company


class EventKind(enum.Enum):
    UPDATE = "update"
    CREATE = "create"
    ARCHIVE = "archive"


@dataclass(slots=True)
class WorkloadEvent:
    """One write the workload makes to the source at ``at_s`` simulated seconds."""

    at_s: float
    kind: EventKind
    company_id: int | None = None
    properties: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """A stream of writes: ``count`` events spread over ``duration_s`` from ``start_s``."""

    count: int
    duration_s: float
    start_s: float = 0.0
    pattern: Pattern = Pattern.UNIFORM
    create_share: float = 0.02
    archive_share: float = 0.01


def generate_stream(
    spec: StreamSpec,
    seed: int,
    live_ids: list[int],
    next_id: int,
    lookup: Callable[[int], dict[str, str | None]] | None = None,
) -> list[WorkloadEvent]:
    """Draw the events of ``spec``, sorted by time.

    ``live_ids`` are the companies alive when the stream starts and ``next_id`` the id the
    store will give the next creation (the store allocates ids in sequence, so the stream
    can address the companies it creates). ``lookup`` returns a company's present values,
    so that every update changes something.
    """
    rng = random.Random(
        f"stream:{seed}:{spec.start_s}:{spec.count}:{spec.pattern.value}"
    )
    gen = CompanyGenerator(rng)
    live = list(live_ids)
    values: dict[int, dict[str, str | None]] = {}
    times = _arrival_times(rng, spec)
    events: list[WorkloadEvent] = []
    for at in times:
        roll = rng.random()
        if roll < spec.create_share or not live:
            props = gen.company()
            events.append(WorkloadEvent(at, EventKind.CREATE, next_id, props))
            values[next_id] = dict(props)
            live.append(next_id)
            next_id += 1
            continue
        index = _pick_index(rng, spec.pattern, len(live))
        company_id = live[index]
        if roll < spec.create_share + spec.archive_share:
            live[index] = live[-1]
            live.pop()
            values.pop(company_id, None)
            events.append(WorkloadEvent(at, EventKind.ARCHIVE, company_id))
            continue
        known = values.get(company_id)
        if known is None:
            known = values[company_id] = dict(lookup(company_id)) if lookup else {}
        changed: dict[str, str | None] = {}
        for _ in range(1 if rng.random() < 0.75 else 2):
            prop = rng.choices(_EDITED_NAMES, _EDITED_WEIGHTS)[0]
            changed[prop] = gen.new_value(prop, known.get(prop))
        known.update(changed)
        events.append(WorkloadEvent(at, EventKind.UPDATE, company_id, changed))
    return events


def _arrival_times(rng: random.Random, spec: StreamSpec) -> list[float]:
    if spec.count <= 0:
        return []
    if spec.pattern is Pattern.BURSTY:
        times: list[float] = []
        while len(times) < spec.count:
            centre = rng.uniform(0, spec.duration_s)
            size = min(spec.count - len(times), rng.randint(5, 40))
            times.extend(
                min(spec.duration_s, centre + rng.expovariate(2.0)) for _ in range(size)
            )
    else:
        # Poisson arrivals conditioned on the count: sorted uniform times.
        times = [rng.uniform(0, spec.duration_s) for _ in range(spec.count)]
    return sorted(round(spec.start_s + t, 3) for t in times)


def _pick_index(rng: random.Random, pattern: Pattern, size: int) -> int:
    if pattern is Pattern.HOT_KEYS:
        # Zipf-like: index ~ size * u^3 puts about half the edits on the first 12% of ids.
        return min(size - 1, int(size * rng.random() ** 3))
    return rng.randrange(size)
