"""hybrid-cdc's durable state in Redis, so that a restarted instance resumes.

Keys, all under one prefix (``syncbench:hybrid-cdc:`` by default):

- ``watermark``: the CDC cursor, ``"<hs_lastmodifieddate ms>:<hs_object_id>"``.
- ``hashes``: a hash of company id to the content hash (``rows.content_hash``) of the
  row last written to Databox, or :data:`ARCHIVED_MARKER` once an archived row was
  written.
- ``archived``: a set of the ids whose hash is the archived marker, so that restores can
  be found without scanning every hash.
- ``seen``: a sorted set of webhook event keys scored by the clock time they were
  committed; members older than the de-duplication window are trimmed on each commit,
  which gives every member its own expiry (a plain Redis set can only expire whole).
- ``pending``: a list of webhook delivery bodies, pushed before the receiver answers 200
  and trimmed only once the rows they produced are in Databox.

Everything a flush produced is committed in one MULTI/EXEC, so a crash leaves either the
state before the flush or the state after it, never half of each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import redis.asyncio

DEFAULT_PREFIX = "syncbench:hybrid-cdc:"
ARCHIVED_MARKER = "archived"
# HubSpot retries a failed delivery for up to 24 hours; keep event keys a bit longer.
DEFAULT_SEEN_TTL_MS = 26 * 3600 * 1000


@dataclass(frozen=True, order=True, slots=True)
class Cursor:
    """A position in ``hs_lastmodifieddate`` order, with the object id breaking ties."""

    modified_ms: int
    object_id: int

    def to_text(self) -> str:
        return f"{self.modified_ms}:{self.object_id}"

    @classmethod
    def from_text(cls, text: str | bytes) -> Cursor:
        if isinstance(text, bytes):
            text = text.decode()
        modified, sep, object_id = text.partition(":")
        if not sep or not modified.isdigit() or not object_id.isdigit():
            raise ValueError(f"watermark must look like '<ms>:<id>', got {text!r}")
        return cls(int(modified), int(object_id))


class SyncState:
    """Reads and commits hybrid-cdc's state in one Redis database."""

    def __init__(
        self,
        redis: redis.asyncio.Redis,
        prefix: str = DEFAULT_PREFIX,
        seen_ttl_ms: int = DEFAULT_SEEN_TTL_MS,
    ) -> None:
        if not prefix:
            raise ValueError(
                "prefix must not be empty: it keeps runs apart in one Redis"
            )
        self.redis = redis
        self.prefix = prefix
        self.seen_ttl_ms = seen_ttl_ms
        self.watermark_key = prefix + "watermark"
        self.hashes_key = prefix + "hashes"
        self.archived_key = prefix + "archived"
        self.seen_key = prefix + "seen"
        self.pending_key = prefix + "pending"

    # -- reading ----------------------------------------------------------------------

    async def watermark(self) -> Cursor | None:
        value = await self.redis.get(self.watermark_key)
        return None if value is None else Cursor.from_text(value)

    async def hashes(self, company_ids: Iterable[int]) -> dict[int, str | None]:
        """Return the stored hash of each id, None where no row was written yet."""
        ids = list(company_ids)
        if not ids:
            return {}
        values = await self.redis.hmget(self.hashes_key, [str(i) for i in ids])
        return {i: _text(v) for i, v in zip(ids, values, strict=True)}

    async def archived_ids(self) -> set[int]:
        return {int(m) for m in await self.redis.smembers(self.archived_key)}

    async def seen(self, keys: list[str], now_ms: int) -> set[str]:
        """Return the keys committed within the de-duplication window."""
        if not keys:
            return set()
        scores = await self.redis.zmscore(self.seen_key, keys)
        cutoff = now_ms - self.seen_ttl_ms
        return {
            k
            for k, s in zip(keys, scores, strict=True)
            if s is not None and s >= cutoff
        }

    async def pending(self) -> list[bytes]:
        """Return every delivery body not yet fully written, oldest first."""
        return [_bytes(v) for v in await self.redis.lrange(self.pending_key, 0, -1)]

    async def has_state(self) -> bool:
        return bool(await self.redis.exists(self.watermark_key, self.hashes_key))

    # -- writing ----------------------------------------------------------------------

    async def push_pending(self, body: bytes) -> int:
        """Append a delivery body; return the list's new length."""
        return int(await self.redis.rpush(self.pending_key, body))

    async def commit(
        self,
        *,
        now_ms: int,
        hashes: Mapping[int, str] | None = None,
        consumed: int = 0,
        seen: Iterable[str] = (),
        watermark: Cursor | None = None,
    ) -> None:
        """Record one flush: row hashes, consumed deliveries, seen events, watermark.

        ``consumed`` deliveries are removed from the head of the pending list. The
        watermark is written as given; callers only ever move it forward.
        """
        hashes = hashes or {}
        seen = list(seen)
        async with self.redis.pipeline(transaction=True) as pipe:
            if hashes:
                pipe.hset(
                    self.hashes_key, mapping={str(k): v for k, v in hashes.items()}
                )
                archived = [str(k) for k, v in hashes.items() if v == ARCHIVED_MARKER]
                live = [str(k) for k, v in hashes.items() if v != ARCHIVED_MARKER]
                if archived:
                    pipe.sadd(self.archived_key, *archived)
                if live:
                    pipe.srem(self.archived_key, *live)
            if consumed:
                pipe.ltrim(self.pending_key, consumed, -1)
            if seen:
                pipe.zadd(self.seen_key, {key: now_ms for key in seen})
                pipe.zremrangebyscore(
                    self.seen_key, "-inf", now_ms - self.seen_ttl_ms - 1
                )
            if watermark is not None:
                pipe.set(self.watermark_key, watermark.to_text())
            if len(pipe):
                await pipe.execute()

    async def clear(self) -> None:
        """Delete every key of this state (a fresh start)."""
        await self.redis.delete(
            self.watermark_key,
            self.hashes_key,
            self.archived_key,
            self.seen_key,
            self.pending_key,
        )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


def _bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()
