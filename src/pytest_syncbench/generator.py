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
    # A bulk update or import: ``count`` distinct companies, each edited once, in
    # ascending id order at evenly spaced times over ``duration_s``. With a duration of
    # 0 every edit commits in the same millisecond. The stream's shares are ignored.
    BULK = "bulk"


class EventKind(enum.Enum):
    UPDATE = "update"
    CREATE = "create"
    ARCHIVE = "archive"
    # ``company_id`` is merged into ``primary_id``, as HubSpot's merge endpoint does.
    MERGE = "merge"


@dataclass(slots=True)
class WorkloadEvent:
    """One write the workload makes to the source at ``at_s`` simulated seconds."""

    at_s: float
    kind: EventKind
    company_id: int | None = None
    properties: dict[str, str | None] = field(default_factory=dict)
    # For a MERGE: the surviving company, which keeps its id.
    primary_id: int | None = None


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """A stream of writes: ``count`` events spread over ``duration_s`` from ``start_s``.

    Each event is a creation with probability ``create_share``, an archive with
    ``archive_share``, a merge of two live companies with ``merge_share``, and an
    update otherwise.
    """

    count: int
    duration_s: float
    start_s: float = 0.0
    pattern: Pattern = Pattern.UNIFORM
    create_share: float = 0.02
    archive_share: float = 0.01
    merge_share: float = 0.0
    # Properties the updates edit, with their usual relative weights. None edits the
    # whole EDITED_PROPERTIES mix.
    properties: tuple[str, ...] | None = None
    # Only companies with ids in ``[low, high]``, and those the stream creates, are
    # edited, archived or merged. None addresses every live company.
    id_range: tuple[int, int] | None = None
    # Seconds after each creation at which the new company is edited once. The edit is
    # one of the stream's ``count`` events. None makes no such edits.
    edit_after_create_s: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.count, int) or self.count < 0:
            raise ValueError(f"invalid count {self.count!r}: expected an integer >= 0")
        for name in ("duration_s", "start_s"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or value < 0:
                raise ValueError(f"invalid {name} {value!r}: expected seconds >= 0")
        shares = (self.create_share, self.archive_share, self.merge_share)
        if any(not 0.0 <= s <= 1.0 for s in shares) or sum(shares) > 1.0:
            raise ValueError(
                f"invalid shares create={self.create_share!r}, "
                f"archive={self.archive_share!r}, merge={self.merge_share!r}: each "
                "must be from 0 to 1 and together at most 1"
            )
        if self.properties is not None:
            unknown = set(self.properties) - set(_EDITED_NAMES)
            if unknown or not self.properties:
                raise ValueError(
                    f"invalid properties {self.properties!r}: expected a non-empty "
                    f"subset of {', '.join(_EDITED_NAMES)}"
                )
        if self.id_range is not None:
            low, high = self.id_range
            if not 1 <= low <= high:
                raise ValueError(
                    f"invalid id_range {self.id_range!r}: expected (low, high) "
                    "with 1 <= low <= high"
                )
        delay = self.edit_after_create_s
        if delay is not None and (not isinstance(delay, int | float) or delay <= 0):
            raise ValueError(
                f"invalid edit_after_create_s {delay!r}: expected seconds > 0 or None"
            )


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
    pool = list(live_ids)
    if spec.id_range is not None:
        low, high = spec.id_range
        pool = [i for i in pool if low <= i <= high]
    draw = _StreamDraw(spec, rng, pool, next_id, lookup)
    if spec.pattern is Pattern.BULK:
        return draw.bulk()
    return draw.mixed(_arrival_times(rng, spec))


class _StreamDraw:
    """The random choices of one stream, with the values it has given each company."""

    def __init__(
        self,
        spec: StreamSpec,
        rng: random.Random,
        live: list[int],
        next_id: int,
        lookup: Callable[[int], dict[str, str | None]] | None,
    ) -> None:
        self.spec = spec
        self.rng = rng
        self.gen = CompanyGenerator(rng)
        self.live = live
        self.next_id = next_id
        self.lookup = lookup
        self.values: dict[int, dict[str, str | None]] = {}
        if spec.properties is None:
            self.edited, self.weights = _EDITED_NAMES, _EDITED_WEIGHTS
        else:
            weights = dict(EDITED_PROPERTIES)
            self.edited = list(spec.properties)
            self.weights = [weights[name] for name in self.edited]

    def bulk(self) -> list[WorkloadEvent]:
        spec = self.spec
        if spec.count > len(self.live):
            raise ValueError(
                f"a BULK stream of {spec.count} edits needs as many live companies, "
                f"but only {len(self.live)} are in range; lower count or widen id_range"
            )
        chosen = sorted(self.rng.sample(self.live, spec.count))
        step = spec.duration_s / spec.count if spec.count else 0.0
        return [
            WorkloadEvent(
                round(spec.start_s + index * step, 3),
                EventKind.UPDATE,
                company_id,
                self._edit(company_id),
            )
            for index, company_id in enumerate(chosen)
        ]

    def mixed(self, times: list[float]) -> list[WorkloadEvent]:
        spec = self.spec
        rng = self.rng
        live = self.live
        events: list[WorkloadEvent] = []
        # Companies created with a follow-up edit still to come, by the edit's time:
        # they join ``live`` once it is made, so that nothing archives them first.
        follow_ups: list[tuple[float, int]] = []
        remaining = list(reversed(times))
        while remaining:
            at = remaining.pop()
            while follow_ups and follow_ups[0][0] <= at:
                live.append(follow_ups.pop(0)[1])
            roll = rng.random()
            if roll < spec.create_share or not live:
                company_id = self._create(at, events)
                delay = spec.edit_after_create_s
                if delay is not None and remaining:
                    # The follow-up edit takes the slot of the stream's last arrival.
                    remaining.pop(0)
                    edit_at = round(at + delay, 3)
                    events.append(
                        WorkloadEvent(
                            edit_at,
                            EventKind.UPDATE,
                            company_id,
                            self._edit(company_id),
                        )
                    )
                    follow_ups.append((edit_at, company_id))
                    follow_ups.sort()
                else:
                    live.append(company_id)
                continue
            index = _pick_index(rng, spec.pattern, len(live))
            company_id = live[index]
            if roll < spec.create_share + spec.archive_share:
                self._remove(index)
                self.values.pop(company_id, None)
                events.append(WorkloadEvent(at, EventKind.ARCHIVE, company_id))
                continue
            merge_below = spec.create_share + spec.archive_share + spec.merge_share
            if roll < merge_below and len(live) >= 2:
                events.append(self._merge(at, index))
                continue
            events.append(
                WorkloadEvent(at, EventKind.UPDATE, company_id, self._edit(company_id))
            )
        events.sort(key=lambda e: e.at_s)
        return events

    def _create(self, at: float, events: list[WorkloadEvent]) -> int:
        props = self.gen.company()
        company_id = self.next_id
        self.next_id += 1
        events.append(WorkloadEvent(at, EventKind.CREATE, company_id, props))
        self.values[company_id] = dict(props)
        return company_id

    def _merge(self, at: float, index: int) -> WorkloadEvent:
        live = self.live
        merged_id = live[index]
        other = self.rng.randrange(len(live) - 1)
        primary_id = live[other if other < index else other + 1]
        merged = self._known(merged_id)
        primary = self._known(primary_id)
        # The survivor takes the merged company's value wherever it has none.
        for name, value in merged.items():
            if primary.get(name) in (None, "") and value not in (None, ""):
                primary[name] = value
        self._remove(index)
        self.values.pop(merged_id, None)
        return WorkloadEvent(at, EventKind.MERGE, merged_id, primary_id=primary_id)

    def _remove(self, index: int) -> None:
        live = self.live
        live[index] = live[-1]
        live.pop()

    def _known(self, company_id: int) -> dict[str, str | None]:
        known = self.values.get(company_id)
        if known is None:
            start = self.lookup(company_id) if self.lookup else {}
            known = self.values[company_id] = dict(start)
        return known

    def _edit(self, company_id: int) -> dict[str, str | None]:
        rng = self.rng
        known = self._known(company_id)
        changed: dict[str, str | None] = {}
        for _ in range(1 if rng.random() < 0.75 else 2):
            prop = rng.choices(self.edited, self.weights)[0]
            changed[prop] = self.gen.new_value(prop, known.get(prop))
        known.update(changed)
        return changed


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
