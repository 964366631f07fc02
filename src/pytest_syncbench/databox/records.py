"""State of the mock Databox: the write log, push data points and dataset rows.

The benchmark measures latency and consistency from these structures, so each accepted
write is recorded once, in arrival order, with the simulated time it reached the server.
Rejected writes (auth, rate limit, payload, validation, outage) leave no trace here; the
server's call log keeps those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

Row = dict[str, Any]
RowKey = tuple[Any, ...]
WriteKind = Literal["push", "ingest"]


class Call(NamedTuple):
    """One HTTP request and the status of its response, accepted or not."""

    t_s: float  # arrival, simulated seconds since the scenario started
    endpoint: (
        str  # method and route template, for example "POST /v1/datasets/{id}/data"
    )
    status: int
    request_bytes: int  # body bytes, headers excluded
    response_bytes: int  # body bytes, headers excluded


@dataclass(slots=True)
class DataPoint:
    """One push API item as stored. Pushes add points; nothing is overwritten."""

    key: str
    value: float | int
    date_ms: int  # the item's own date, or the arrival time when it gave none
    unit: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    period_from_ms: int | None = None
    period_to_ms: int | None = None
    arrival_s: float = 0.0


@dataclass(slots=True)
class Write:
    """One accepted write, in the order the server received it."""

    arrival_s: float  # simulated seconds since the scenario started (Clock.now())
    arrival_ms: int  # calendar epoch milliseconds (Clock.now_ms())
    kind: WriteKind
    dataset_id: str | None  # None for push writes
    request_bytes: int
    # The id returned in the response: a push id or an ingestion id.
    write_id: str
    rows: list[Row] = field(default_factory=list)  # ingest: records as stored
    items: list[DataPoint] = field(default_factory=list)  # push: data points as stored


@dataclass(slots=True)
class Ingestion:
    """Status of one accepted ingestion call, as the status endpoint reports it."""

    ingestion_id: str
    dataset_id: str
    arrival_ms: int
    record_count: int
    # Ingestion is asynchronous in the real service; the mock applies rows on arrival,
    # so every ingestion it reports has already completed.
    status: str = "completed"


@dataclass(slots=True)
class Dataset:
    """A dataset and its rows, keyed by the primary-key tuple.

    With upsert on, a row whose key is already present replaces the stored row as a
    whole: fields missing from the new row are gone, not merged. With upsert off, or
    when the dataset has no primary key, every row is appended: ``rows`` then keeps the
    latest row per key while ``row_count`` counts every stored row, so duplicates show
    as ``row_count - len(rows)``. Without a primary key each row gets a key of its own,
    its position in the dataset.
    """

    id: str
    name: str
    primary_keys: list[str]
    upsert: bool = True
    rows: dict[RowKey, Row] = field(default_factory=dict)
    stored: int = 0  # rows ever written, replaced or not

    @property
    def row_count(self) -> int:
        """Return the number of rows in the dataset, as Databox would count them."""
        if self.upsert and self.primary_keys:
            return len(self.rows)
        return self.stored

    def key_of(self, row: Row) -> RowKey:
        """Return the row's primary-key tuple, assuming the keys were validated."""
        if not self.primary_keys:
            return (self.stored,)
        return tuple(row[name] for name in self.primary_keys)

    def apply(self, rows: list[Row]) -> None:
        """Store validated rows in order: later rows win within one call too."""
        store = self.rows
        names = self.primary_keys
        if len(names) == 1:
            # The common single-key case, unrolled: it runs for every row of every call.
            name = names[0]
            for row in rows:
                store[(row[name],)] = row
        elif names:
            for row in rows:
                store[tuple(row[name] for name in names)] = row
        else:
            for offset, row in enumerate(rows):
                store[(self.stored + offset,)] = row
        self.stored += len(rows)
