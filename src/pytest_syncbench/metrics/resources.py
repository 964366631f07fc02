"""Process memory sampling for one case."""

from __future__ import annotations

import threading

import psutil

SAMPLE_INTERVAL_S = 0.05


class PeakRss:
    """Sample the process's resident set size in a background thread; keep the peak.

    The thread never touches the event loop, so it cannot disturb virtual time. The peak
    covers the whole process: the mocks, the generator and the harness share it with the
    solution in virtual-time mode, and peaks shorter than the sampling interval are missed.
    """

    def __init__(self) -> None:
        self._process = psutil.Process()
        self.start_bytes = self._process.memory_info().rss
        self.peak_bytes = self.start_bytes
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="syncbench-rss", daemon=True
        )

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _sample(self) -> None:
        rss = self._process.memory_info().rss
        if rss > self.peak_bytes:
            self.peak_bytes = rss

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_INTERVAL_S):
            self._sample()
