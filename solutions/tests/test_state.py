"""hybrid-cdc's Redis state, on fakeredis."""

from __future__ import annotations

import fakeredis
import pytest

from solutions.common.state import ARCHIVED_MARKER, Cursor, SyncState
from solutions.tests.support import run

T0 = 1_767_603_600_000


def test_cursor_round_trips_through_text() -> None:
    cursor = Cursor(T0, 1234)
    assert Cursor.from_text(cursor.to_text()) == cursor


def test_cursor_orders_by_time_then_id() -> None:
    assert Cursor(T0, 9) < Cursor(T0, 10) < Cursor(T0 + 1, 1)


def test_cursor_rejects_text_without_an_id() -> None:
    with pytest.raises(ValueError, match="watermark"):
        Cursor.from_text("1767603600000")


def test_commit_survives_a_new_state_object_on_the_same_redis() -> None:
    async def scenario() -> tuple[Cursor | None, dict[int, str | None], set[int]]:
        redis = fakeredis.FakeAsyncRedis()
        first = SyncState(redis)
        await first.commit(
            now_ms=T0,
            hashes={1: "h1", 2: ARCHIVED_MARKER},
            watermark=Cursor(T0, 7),
        )
        second = SyncState(redis)
        return (
            await second.watermark(),
            await second.hashes([1, 2, 3]),
            await second.archived_ids(),
        )

    watermark, hashes, archived = run(scenario)
    assert watermark == Cursor(T0, 7)
    assert hashes == {1: "h1", 2: ARCHIVED_MARKER, 3: None}
    assert archived == {2}


def test_live_hash_removes_an_id_from_the_archived_set() -> None:
    async def scenario() -> set[int]:
        state = SyncState(fakeredis.FakeAsyncRedis())
        await state.commit(now_ms=T0, hashes={5: ARCHIVED_MARKER})
        await state.commit(now_ms=T0, hashes={5: "restored"})
        return await state.archived_ids()

    assert run(scenario) == set()


def test_pending_deliveries_are_trimmed_from_the_head() -> None:
    async def scenario() -> list[bytes]:
        state = SyncState(fakeredis.FakeAsyncRedis())
        for body in (b"[1]", b"[2]", b"[3]"):
            await state.push_pending(body)
        await state.commit(now_ms=T0, consumed=2)
        return await state.pending()

    assert run(scenario) == [b"[3]"]


def test_seen_keys_are_reported_within_the_window() -> None:
    async def scenario() -> set[str]:
        state = SyncState(fakeredis.FakeAsyncRedis(), seen_ttl_ms=1_000)
        await state.commit(now_ms=T0, seen=["a", "b"])
        return await state.seen(["a", "c"], now_ms=T0 + 500)

    assert run(scenario) == {"a"}


def test_seen_keys_expire_after_the_window() -> None:
    async def scenario() -> set[str]:
        state = SyncState(fakeredis.FakeAsyncRedis(), seen_ttl_ms=1_000)
        await state.commit(now_ms=T0, seen=["a"])
        await state.commit(now_ms=T0 + 5_000, seen=["b"])
        return await state.seen(["a", "b"], now_ms=T0 + 5_000)

    assert run(scenario) == {"b"}


def test_prefixes_keep_two_states_apart() -> None:
    async def scenario() -> Cursor | None:
        redis = fakeredis.FakeAsyncRedis()
        await SyncState(redis, prefix="one:").commit(now_ms=T0, watermark=Cursor(T0, 1))
        return await SyncState(redis, prefix="two:").watermark()

    assert run(scenario) is None


def test_clear_deletes_every_key() -> None:
    async def scenario() -> bool:
        redis = fakeredis.FakeAsyncRedis()
        state = SyncState(redis)
        await state.push_pending(b"[]")
        await state.commit(now_ms=T0, hashes={1: "h"}, watermark=Cursor(T0, 1))
        await state.clear()
        return bool(await redis.keys("*"))

    assert run(scenario) is False
