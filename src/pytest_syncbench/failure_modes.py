"""Failure modes that real HubSpot sync tools hit, each staged as a scenario.

Every mode is a :class:`~pytest_syncbench.scenarios.ScenarioSpec` named ``failure-*``,
found by :func:`pytest_syncbench.scenarios.scenario` like the five standard scenarios.
``default`` and ``full`` use the same realistic sizes: 12,000 ties and 10,000
companies. ``smoke`` keeps what makes each mode bite, so its ties still pass HubSpot's
10,000-result search cap, and shrinks the rest. docs/failure-modes.md describes each
mode, the HubSpot behaviour behind it and the outcome per solution.
"""

from __future__ import annotations

from collections.abc import Callable

from pytest_syncbench.generator import Pattern, StreamSpec
from pytest_syncbench.neighbour import NeighbourSpec
from pytest_syncbench.scenarios import (
    HOUR,
    MINUTE,
    WARMUP_S,
    Fault,
    FaultKind,
    Scale,
    ScenarioSpec,
)

# HubSpot's search rejects a page at an offset of 10,000 or more.
SEARCH_CAP = 10_000


def _companies(scale: Scale) -> int:
    return 1_000 if scale is Scale.SMOKE else 10_000


def _steady(scale: Scale, duration_s: float, **options: object) -> StreamSpec:
    """Return 1,000 writes an hour from the end of the warm-up.

    They last ``duration_s``, or half of it at smoke scale.
    """
    if scale is Scale.SMOKE:
        duration_s /= 2
    count = round(1_000 * duration_s / HOUR)
    return StreamSpec(count, duration_s, WARMUP_S, **options)  # type: ignore[arg-type]


def _ties(scale: Scale) -> ScenarioSpec:
    smoke = scale is Scale.SMOKE
    ties = 10_200 if smoke else 12_000
    companies = ties + (300 if smoke else 3_000)
    # The steady writes leave the tied companies alone: an edit would move a company
    # out of the tied millisecond and shrink the tie below the cap.
    return ScenarioSpec(
        name="failure-ties",
        description=(
            f"a bulk update gives {ties:,} companies one hs_lastmodifieddate "
            "millisecond, more than the search API pages to"
        ),
        companies=companies,
        streams=(
            _steady(scale, 30 * MINUTE, id_range=(ties + 1, companies)),
            StreamSpec(
                ties, 0.0, WARMUP_S + 5 * MINUTE, Pattern.BULK, id_range=(1, ties)
            ),
        ),
    )


def _paging(scale: Scale) -> ScenarioSpec:
    smoke = scale is Scale.SMOKE
    bulk = 2_500 if smoke else 8_000
    early = 200
    bulk_start = WARMUP_S + 5 * MINUTE
    return ScenarioSpec(
        name="failure-paging",
        description=(
            f"{bulk:,} companies change within 5 s, then the {early} changed first "
            "change again while syncs page through the rest"
        ),
        companies=bulk + (500 if smoke else 2_000),
        streams=(
            StreamSpec(bulk, 5.0, bulk_start, Pattern.BULK, id_range=(1, bulk)),
            StreamSpec(
                1_200 if smoke else 3_000,
                10 * MINUTE,
                bulk_start + 5.0,
                create_share=0.0,
                archive_share=0.0,
                id_range=(1, early),
            ),
        ),
    )


def _index_lag(scale: Scale) -> ScenarioSpec:
    # Writes committed during the spike become searchable 90 s later instead of 3 s.
    # Public reports of HubSpot's index lag range from seconds to about a minute.
    spike = Fault(
        WARMUP_S + 10 * MINUTE,
        15 * MINUTE,
        FaultKind.SEARCH_LAG_SPIKE,
        params={"lag_s": 90.0},
    )
    return ScenarioSpec(
        name="failure-index-lag",
        description="writes stay out of search for 90 s during a 15-minute lag spike",
        companies=_companies(scale),
        streams=(_steady(scale, HOUR, pattern=Pattern.BURSTY),),
        faults=(spike,),
    )


def _deletes_merges(scale: Scale) -> ScenarioSpec:
    return ScenarioSpec(
        name="failure-deletes-merges",
        description="one write in five archives a company or merges two",
        companies=_companies(scale),
        streams=(
            _steady(
                scale,
                HOUR,
                archive_share=0.1,
                merge_share=0.1,
            ),
        ),
    )


def _shared_budget(scale: Scale) -> ScenarioSpec:
    return ScenarioSpec(
        name="failure-shared-budget",
        description=(
            "another consumer on the account spends 185 of every 190 requests per "
            "10 s and every search slot for 20 minutes"
        ),
        companies=_companies(scale),
        streams=(_steady(scale, HOUR),),
        neighbours=(NeighbourSpec(WARMUP_S + 5 * MINUTE, 20 * MINUTE, 185, 5),),
    )


def _watermark_precision(scale: Scale) -> ScenarioSpec:
    duration = 10 * MINUTE if scale is Scale.SMOKE else 30 * MINUTE
    return ScenarioSpec(
        name="failure-watermark-precision",
        description=(
            "5 writes a second at distinct milliseconds, so that every sync falls "
            "between writes of one second"
        ),
        companies=_companies(scale),
        streams=(StreamSpec(round(5 * duration), duration, WARMUP_S),),
    )


def _webhooks_duplicated(scale: Scale) -> ScenarioSpec:
    return ScenarioSpec(
        name="failure-webhooks-duplicated",
        description="one webhook event in five is delivered twice",
        companies=_companies(scale),
        streams=(_steady(scale, 30 * MINUTE, create_share=0.05, archive_share=0.03),),
        hubspot={"duplicate_rate": 0.2},
    )


def _webhooks_reordered(scale: Scale) -> ScenarioSpec:
    return ScenarioSpec(
        name="failure-webhooks-reordered",
        description=(
            "events shuffled within each batch and half the creations sent after "
            "the new company's first property change"
        ),
        companies=_companies(scale),
        streams=(
            _steady(
                scale,
                30 * MINUTE,
                pattern=Pattern.HOT_KEYS,
                create_share=0.2,
                archive_share=0.03,
                edit_after_create_s=0.3,
            ),
        ),
        hubspot={"reorder": True, "late_creation_rate": 0.5},
    )


def _webhooks_dropped(scale: Scale) -> ScenarioSpec:
    outage = Fault(WARMUP_S + 10 * MINUTE, 30 * MINUTE, FaultKind.WEBHOOK_OUTAGE)
    return ScenarioSpec(
        name="failure-webhooks-dropped",
        description=(
            "the webhook receiver is unreachable for 30 minutes and HubSpot gives up "
            "after 2 retries within 10 minutes"
        ),
        companies=_companies(scale),
        streams=(_steady(scale, HOUR, create_share=0.05, archive_share=0.03),),
        faults=(outage,),
        hubspot={"max_retries": 2, "retry_span_s": 600.0},
    )


# Changes of these properties send no propertyChange event, as calculated ones do not.
UNWEBHOOKED = frozenset({"numberofemployees", "annualrevenue"})


def _unsubscribed_properties(scale: Scale) -> ScenarioSpec:
    return ScenarioSpec(
        name="failure-unsubscribed-properties",
        description=(
            "changes to numberofemployees and annualrevenue send no webhook event"
        ),
        companies=_companies(scale),
        streams=(_steady(scale, 30 * MINUTE),),
        hubspot={"unwebhooked_properties": UNWEBHOOKED},
    )


_BUILDERS: dict[str, Callable[[Scale], ScenarioSpec]] = {
    "failure-ties": _ties,
    "failure-paging": _paging,
    "failure-index-lag": _index_lag,
    "failure-deletes-merges": _deletes_merges,
    "failure-shared-budget": _shared_budget,
    "failure-watermark-precision": _watermark_precision,
    "failure-webhooks-duplicated": _webhooks_duplicated,
    "failure-webhooks-reordered": _webhooks_reordered,
    "failure-webhooks-dropped": _webhooks_dropped,
    "failure-unsubscribed-properties": _unsubscribed_properties,
}
FAILURE_MODE_NAMES: tuple[str, ...] = tuple(_BUILDERS)


def failure_mode(name: str, scale: Scale) -> ScenarioSpec | None:
    """Return the failure mode ``name`` at ``scale``, or None for another name."""
    builder = _BUILDERS.get(name)
    return builder(scale) if builder is not None else None
