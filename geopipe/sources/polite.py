"""Being polite to public servers: a per-host request rate, and one clock for every wait.

NOMADS blocks clients that send more than about 120 requests a minute, so a catalog remote
may say ``rate_per_minute``; :func:`throttle` spaces the requests to that host (all threads
of the process together).  Every wait in the remote code goes through :data:`CLOCK`, so a
test can run an hour of polling in simulated time (:class:`SimulatedClock`) without sleeping.
"""

from __future__ import annotations

import functools
import threading
import time
import urllib.parse


class Clock:
    """Wall-clock time (seconds since the epoch) and sleeping."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class SimulatedClock(Clock):
    """Time that only moves when someone sleeps (tests): ``sleep`` advances it at once."""

    def __init__(self, start: float):
        self.t = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self.t

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.t += max(0.0, seconds)


CLOCK: Clock = Clock()
_next: dict[str, float] = {}
_lock = threading.Lock()


def sleep(seconds: float) -> None:
    CLOCK.sleep(seconds)


def now() -> float:
    return CLOCK.now()


@functools.lru_cache(maxsize=None)
def _rates() -> dict[str, float]:
    """host -> requests per minute, from the catalog remotes that set ``rate_per_minute``."""
    from geopipe.catalog import load

    out = {}
    for source in load().sources.values():
        for entry in source.remote:
            if entry.rate_per_minute:
                out[urllib.parse.urlsplit(entry.url).netloc] = float(entry.rate_per_minute)
    return out


def interval(url: str) -> float:
    """Seconds between two requests to ``url``'s host (0: no limit)."""
    rate = _rates().get(urllib.parse.urlsplit(str(url)).netloc)
    return 60.0 / rate if rate else 0.0


def throttle(url: str) -> None:
    """Wait until the next request to ``url``'s host is due (no wait for hosts without a rate)."""
    gap = interval(url)
    if not gap:
        return
    host = urllib.parse.urlsplit(str(url)).netloc
    with _lock:
        t = now()
        due = max(t, _next.get(host, 0.0))
        _next[host] = due + gap
    sleep(due - t)
