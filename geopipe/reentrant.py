"""A hold that is re-entrant within a process and exclusive between its threads.

The first entry for a key takes the outside resource (a lock file, a Prefect lease), nested
entries in the same thread only count, and the last exit gives it back.  Store locks
(:func:`geopipe.store.store_lock`) and writer leases (:func:`geopipe.lease.store_lease`)
both hold their resource this way.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable


class ReentrantHolds:
    """Per key: an RLock, the nesting depth and the resource the first entry took."""

    def __init__(self):
        self._entries: dict[str, list] = {}  # key -> [threading.RLock, depth, resource]
        self._guard = threading.Lock()

    @contextlib.contextmanager
    def hold(self, key: str, acquire: Callable[[], object], release: Callable[[object], None]):
        """Hold ``key``: ``acquire()`` on the first entry, ``release(resource)`` on the last exit."""
        with self._guard:
            entry = self._entries.setdefault(key, [threading.RLock(), 0, None])
        with entry[0]:
            if entry[1] == 0:
                entry[2] = acquire()
            entry[1] += 1
            try:
                yield
            finally:
                entry[1] -= 1
                if entry[1] == 0:
                    resource, entry[2] = entry[2], None
                    release(resource)
