"""State of the mock Databox: the write log, push data points and dataset rows.

The benchmark measures latency and consistency from these structures, so each accepted
write is recorded once, when its data becomes readable, with the simulated time it
reached the server and the time it became readable. Push data points are readable on
arrival. Ingested rows are readable once their ingestion has been processed, which takes
``DataboxConfig.ingest_processing_s``. Rejected writes (auth, rate limit, payload, validation, outage) leave no trace here; the
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
    """One accepted write, recorded when its data became readable.

    With a constant processing delay this is also the order of arrival.
    """

    arrival_s: float  # simulated seconds since the scenario started (Clock.now())
    arrival_ms: int  # calendar epoch milliseconds (Clock.now_ms())
    kind: WriteKind
    dataset_id: str | None  # None for push writes
    request_bytes: int
    # The id returned in the response: a push id or an ingestion id.
    write_id: str
    rows: list[Row] = field(default_factory=list)  # ingest: records as stored
    items: list[DataPoint] = field(default_factory=list)  # push: data points as stored
    # Simulated seconds at which the data became readable: the arrival for a push, the
    # end of processing for an ingestion. None is taken as the arrival.
    visible_s: float | None = None

    def __post_init__(self) -> None:
        if self.visible_s is None:
            self.visible_s = self.arrival_s


@dataclass(slots=True)
class Ingestion:
    """One accepted ingestion call and its progress, as the status endpoint reports it.

    The service processes an ingestion after responding to the call. Until the mock has
    applied the rows, ``status`` is ``"processing"`` and the counts of appended and
    overwritten rows are 0.
    """

    ingestion_id: str
    dataset_id: str
    arrival_ms: int
    record_count: int
    status: str = "processing"
    appended: int = 0  # rows added beside the stored ones
    overwritten: int = 0  # rows that replaced a stored row with the same primary key


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

    def apply(self, rows: list[Row]) -> int:
        """Store validated rows in order and return how many replaced a stored row.

        Later rows win within one call too. Without upsert no row counts as replaced,
        since every row is stored as a row of its own.
        """
        store = self.rows
        names = self.primary_keys
        before = len(store)
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
        if not (self.upsert and names):
            return 0
        return len(rows) - (len(store) - before)
