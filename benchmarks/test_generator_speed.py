"""How fast the suite builds its world: generating and seeding companies."""

from pytest_syncbench.clock import DEFAULT_EPOCH_MS, Clock
from pytest_syncbench.generator import generate_companies
from pytest_syncbench.hubspot.store import Store


def _seed(count: int) -> Store:
    store = Store(Clock())
    store.seed(generate_companies(count, 1, DEFAULT_EPOCH_MS))
    return store


def test_generate_and_seed_100k(benchmark):
    store = benchmark.pedantic(_seed, args=(100_000,), rounds=3, iterations=1)

    assert len(store.companies) == 100_000
