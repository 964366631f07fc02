"""The failure-mode scenarios: lookup by name and what each one stages."""

import pytest

from pytest_syncbench.failure_modes import (
    FAILURE_MODE_NAMES,
    SEARCH_CAP,
)
from pytest_syncbench.generator import Pattern
from pytest_syncbench.scenarios import FaultKind, Scale, scenario


@pytest.mark.parametrize("scale", list(Scale))
@pytest.mark.parametrize("name", FAILURE_MODE_NAMES)
def test_scenario_lookup_finds_mode(name, scale):
    spec = scenario(name, scale)

    assert spec.name == name
    assert spec.update_count > 0
    assert spec.deadline_s > spec.workload_end_s


def test_unknown_name_lists_failure_modes():
    with pytest.raises(ValueError, match="failure-ties"):
        scenario("failure-nope", Scale.SMOKE)


@pytest.mark.parametrize("scale", list(Scale))
def test_ties_exceed_search_cap(scale):
    spec = scenario("failure-ties", scale)

    bulk = [s for s in spec.streams if s.pattern is Pattern.BULK]
    assert len(bulk) == 1
    assert bulk[0].duration_s == 0.0
    assert bulk[0].count > SEARCH_CAP


def test_ties_steady_stream_avoids_tied_companies():
    spec = scenario("failure-ties", Scale.DEFAULT)

    bulk, steady = sorted(spec.streams, key=lambda s: s.pattern is Pattern.BULK)[::-1]
    assert bulk.id_range is not None
    assert steady.id_range is not None
    assert steady.id_range[0] > bulk.id_range[1]


def test_dropped_webhooks_outlast_retries():
    spec = scenario("failure-webhooks-dropped", Scale.DEFAULT)

    outage = spec.faults[0]
    assert outage.kind is FaultKind.WEBHOOK_OUTAGE
    assert outage.duration_s > spec.hubspot["retry_span_s"]


def test_shared_budget_has_neighbour():
    spec = scenario("failure-shared-budget", Scale.SMOKE)

    (neighbour,) = spec.neighbours
    stream = spec.streams[0]
    assert neighbour.burst_per_10s == 185
    assert neighbour.searches_per_second == 5
    assert stream.start_s <= neighbour.start_s
    assert neighbour.end_s <= stream.start_s + stream.duration_s


def test_other_scenarios_have_no_neighbour():
    assert scenario("outage", Scale.SMOKE).neighbours == ()
