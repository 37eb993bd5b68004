"""Where GFS cycles live and when they are out: URLs, the ``latest`` cycle, polling a cycle in.

* Layout (NOAA's open-data registry; Herbie's ``herbie/models/gfs.py`` "aws" and "aws-old"):
  ``gfs.YYYYMMDD/HH/atmos/gfs.tHHz.pgrb2.0p25.fFFF`` from the 2021-03-23 cycles on, without
  ``atmos/`` before (:func:`atmos`).
* Remote ``auto`` (the default): NOMADS for cycles of the last ``nomads_days`` (the catalog's
  9; NOMADS keeps about 10), NOAA's AWS bucket otherwise.  NOMADS gets the catalog's
  ``rate_per_minute`` (:mod:`geopipe.sources.polite`) and its 302/429/5xx answers are retried.
* ``latest`` is the newest cycle whose requested files are published, found by probing
  their ``.idx`` (never a fixed delay: reformatters measures f006 at about init+3h36m and f384
  at init+5h13m to 5h35m on NOMADS, and the AWS copy lags).
* :func:`poll` ingests a cycle hour by hour as NOMADS publishes it: each round probes the
  ``.idx`` of the hours not yet ingested, ingests those that are out, and waits ``interval``
  minutes (a file that is not out yet is retried over minutes, not seconds) until every hour
  is in or ``minutes`` have passed.  A cycle still incomplete after its window (``window_hours``
  after init) fails naming the hours missing; before that the run ends with the hours pending,
  and the next scheduled run picks them up (already-ingested steps are skipped by the store).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from collections.abc import Callable, Sequence

from geopipe.config import is_url
from geopipe.errors import GeopipeError, RemoteError
from geopipe.sources import polite, remote
from geopipe.lazy import lazy_import

pd = lazy_import("pandas")

log = logging.getLogger(__name__)

#: first cycle published under ``atmos/`` (GFS v16; Herbie's "aws" vs "aws-old" templates)
ATMOS_FROM = "2021-03-23"


def atmos(init: pd.Timestamp) -> str:
    return "atmos/" if pd.Timestamp(init) >= pd.Timestamp(ATMOS_FROM) else ""


def _now(now=None) -> pd.Timestamp:
    return pd.Timestamp(now) if now is not None else pd.Timestamp(polite.now(), unit="s")


def choose_remote(init: pd.Timestamp, remote: str = "auto", now=None) -> str:
    """``auto`` -> ``nomads`` for a recent cycle, else ``aws``; anything else as given."""
    if remote != "auto":
        return remote
    from geopipe.catalog import load

    days = float(getattr(load().source("gfs"), "nomads_days", 9))
    return "nomads" if _now(now) - pd.Timestamp(init) < pd.Timedelta(days=days) else "aws"


def cycle_urls(cycle, fhours: Sequence[int], remote_name: str = "auto", res: str = "0p25",
               now=None) -> tuple[list[str], dict]:
    """URLs of ``cycle``'s files at ``fhours`` and their fsspec storage options.

    ``remote_name`` is ``auto``, a catalog remote (``aws``, ``nomads``) or a URL base (or
    folder) laid out like NOAA's bucket; ``res`` NOAA's product resolution (0p25, 0p50, 1p00).
    """
    if not re.fullmatch(r"\dp\d\d", res):
        raise GeopipeError(f"gfs: resolution {res!r}: expected NOAA's form, e.g. 0p25, 0p50, 1p00")
    from geopipe.catalog import load

    source = load().source("gfs")
    init = pd.Timestamp(cycle)
    if init != init.floor("6h"):
        raise GeopipeError(f"gfs: {cycle} is not a cycle: GFS runs at 00, 06, 12 and 18 UTC")
    if is_url(remote_name) or os.path.isdir(remote_name):
        template = source.remote_named("aws").url
        relative = template[template.rfind("/", 0, template.index("{")) + 1:]
        template, options = remote_name.rstrip("/") + "/" + relative, {}
    else:
        entry = source.remote_named(choose_remote(init, remote_name, now))
        template, options = entry.url, dict(entry.storage_options)
    t = init.to_pydatetime()
    return [template.format(init=t, fhour=int(h), res=res, atmos=atmos(init)) for h in fhours], options


def candidates(now=None, lookback: int = 4) -> list[pd.Timestamp]:
    """The last ``lookback`` cycles, newest first."""
    newest = _now(now).floor("6h")
    return [newest - pd.Timedelta(hours=6 * k) for k in range(lookback)]


def published(url: str, options: dict | None = None) -> bool:
    """Whether NOAA has published ``url`` (its ``.idx`` exists: it is written last)."""
    return remote.exists(url + ".idx", options, remote.Retry(attempts=3))


def latest_cycle(fhours: Sequence[int], remote_name: str = "auto", res: str = "0p25", now=None,
                 complete: bool = True, lookback: int = 4) -> pd.Timestamp:
    """The newest of the last ``lookback`` cycles whose requested files are all published
    (``complete=False``: whose first requested file is); ``RemoteError`` if none is."""
    hours = list(fhours) if complete else list(fhours)[:1]
    tried = []
    for init in candidates(now, lookback):
        urls, options = cycle_urls(init, hours, remote_name, res, now)
        tried.append(urls[0] + ".idx")
        if all(published(u, options) for u in urls):
            return init
    raise RemoteError(f"gfs: no cycle of the last {6 * lookback} h has its files published (probed "
                      f"{', '.join(tried)})")


@dataclasses.dataclass
class PollReport:
    cycle: str
    ingested: list[int]
    missing: list[int]
    rounds: int


def poll(cycle, fhours: Sequence[int], ingest: Callable[[list[str], dict], None], remote_name: str = "auto",
         res: str = "0p25", minutes: float = 25.0, interval: float = 5.0, window_hours: float = 7.0,
         done: Sequence[int] = ()) -> PollReport:
    """Ingest ``cycle``'s hours as they are published (see the module docstring).

    ``ingest(urls, storage_options)`` ingests the given files (the flow submits one task per
    file); ``done`` are hours already ingested.  Time is :mod:`geopipe.sources.polite`'s clock.
    """
    init = pd.Timestamp(cycle)
    start = polite.now()
    want = [int(h) for h in fhours if int(h) not in set(done)]
    got: list[int] = []
    rounds = 0
    while True:
        rounds += 1
        urls, options = cycle_urls(init, want, remote_name, res)
        ready = [(h, u) for h, u in zip(want, urls) if published(u, options)]
        if ready:
            ingest([u for _, u in ready], options)
            got += [h for h, _ in ready]
            want = [h for h in want if h not in {h for h, _ in ready}]
        if not want or polite.now() - start + interval * 60 > minutes * 60:
            break
        log.info("gfs %s: f%s not published yet; next look in %g min", init, ",".join(f"{h:03d}" for h in want),
                 interval)
        polite.sleep(interval * 60)
    if want and _now() > init + pd.Timedelta(hours=window_hours):
        raise RemoteError(f"gfs cycle {init:%Y-%m-%dT%H} is still incomplete {window_hours:g} h after its "
                          f"start: f{', f'.join(f'{h:03d}' for h in want)} missing ({len(got)} hours ingested now)")
    return PollReport(f"{init:%Y-%m-%dT%H}", sorted(got), want, rounds)
