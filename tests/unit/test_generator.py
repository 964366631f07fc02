"""Generated companies and update streams."""

from pytest_syncbench.clock import DEFAULT_EPOCH_MS
from pytest_syncbench.generator import (
    SYNCED_PROPERTIES,
    EventKind,
    Pattern,
    StreamSpec,
    generate_companies,
    generate_stream,
)


def test_same_seed_same_companies():
    first = list(generate_companies(200, 5, DEFAULT_EPOCH_MS))
    second = list(generate_companies(200, 5, DEFAULT_EPOCH_MS))

    assert first == second


def test_other_seed_other_companies():
    first = list(generate_companies(50, 5, DEFAULT_EPOCH_MS))
    second = list(generate_companies(50, 6, DEFAULT_EPOCH_MS))

    assert first != second


def test_companies_have_every_synced_property():
    props, created, modified = next(generate_companies(1, 1, DEFAULT_EPOCH_MS))
    maintained = {"createdate", "hs_lastmodifieddate"}

    assert set(SYNCED_PROPERTIES) - maintained <= set(props)
    assert created <= modified < DEFAULT_EPOCH_MS


def test_domains_are_unique():
    domains = [
        p["domain"] for p, _, _ in generate_companies(5_000, 2, DEFAULT_EPOCH_MS)
    ]

    assert len(set(domains)) == len(domains)


def test_stream_count_window_and_order():
    spec = StreamSpec(
        count=500, duration_s=600.0, start_s=100.0, pattern=Pattern.BURSTY
    )

    events = generate_stream(spec, 1, list(range(1, 1001)), 1001)

    assert len(events) == 500
    assert all(100.0 <= e.at_s <= 700.0 for e in events)
    assert [e.at_s for e in events] == sorted(e.at_s for e in events)


def test_stream_creations_take_next_ids():
    spec = StreamSpec(count=400, duration_s=600.0, create_share=0.1)

    events = generate_stream(spec, 1, list(range(1, 101)), 101)

    created = [e.company_id for e in events if e.kind is EventKind.CREATE]
    assert created == list(range(101, 101 + len(created)))


def test_archived_company_is_never_addressed_again():
    spec = StreamSpec(count=2_000, duration_s=600.0, archive_share=0.2)

    events = generate_stream(spec, 3, list(range(1, 51)), 51)

    archived: set[int] = set()
    for event in events:
        assert event.company_id not in archived
        if event.kind is EventKind.ARCHIVE:
            archived.add(event.company_id)


def test_updates_change_the_value():
    current = {i: {"lifecyclestage": "lead", "city": "Paris"} for i in range(1, 11)}
    spec = StreamSpec(count=200, duration_s=60.0, create_share=0.0, archive_share=0.0)

    events = generate_stream(spec, 4, list(current), 11, lambda cid: current[cid])

    for event in events:
        for prop, value in event.properties.items():
            assert value != current[event.company_id].get(prop)
            current[event.company_id][prop] = value
