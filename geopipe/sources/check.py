"""``geopipe sources check``: one small request per configured remote, for an operator setting up a machine.

Each remote of ``catalog/sources.yaml`` is asked once for a recent, small thing (the newest
GFS ``.idx``, the current GOES hour's prefix, yesterday's request of an index service) and is
reported ``reachable``, ``unreachable`` (with the reason) or ``needs a token`` (a service whose
token is not configured, or was refused).
"""

from __future__ import annotations

import dataclasses

from geopipe.errors import GeopipeError
from geopipe.lazy import lazy_import

pd = lazy_import("pandas")


@dataclasses.dataclass
class Check:
    source: str
    remote: str
    url: str
    status: str  # reachable | unreachable | needs a token
    detail: str = ""

    def line(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.source:8s} {self.remote:15s} {self.status}{detail}  {self.url}"


def probe_url(source: str, remote: str, now: pd.Timestamp) -> tuple[str, str]:
    """The URL one small request goes to, and ``"list"`` or ``"get"``."""
    from geopipe.sources import reader_class

    cls = reader_class(source)
    if source == "gfs":
        init = (now - pd.Timedelta(hours=12)).floor("6h")
        plan = cls.remote_inputs(cycle=f"{init:%Y-%m-%dT%H}", remote=remote)
        return plan.lines()[0] + ".idx", "get"
    if source == "goes":
        hour = (now - pd.Timedelta(hours=1)).floor("h")
        return cls.remote_inputs(hour, hour + pd.Timedelta(hours=1), satellite=remote).lines()[0], "list"
    day = (now - pd.Timedelta(days=1)).normalize()
    extra = {"basin": "ACTIVE"} if source == "ibtracs" else {}  # IBTrACS' smallest file
    return cls.remote_inputs(f"{day:%Y-%m-%d}", remote=remote, now=now, **extra).lines()[0], "get"


def check_remote(source: str, remote: str, now=None) -> Check:
    from geopipe.catalog import load
    from geopipe.errors import RemoteError
    from geopipe.sources import remote as _remote
    from geopipe.sources import tokens

    now = pd.Timestamp(now) if now is not None else pd.Timestamp.now(tz="UTC").tz_localize(None)
    entry = load().source(source).remote_named(remote)
    try:
        url, how = probe_url(source, remote, now)
    except GeopipeError as exc:
        return Check(source, remote, entry.url, "unreachable", str(exc))
    retry = _remote.Retry(attempts=2, timeout=10)
    try:
        options = tokens.storage_options(url, entry.storage_options)
        fs, path = _remote.filesystem(url, options, retry.timeout)
        # a few bytes, not a HEAD: fsspec reports any failed HEAD as a missing file
        call = (lambda: fs.ls(path, detail=False)) if how == "list" else (lambda: fs.cat_file(path, start=0, end=64))
        _remote.call_with_retry(url, "check", call, retry)
    except tokens.TokenError as exc:
        return Check(source, remote, url, "needs a token", str(exc).split(": ", 1)[-1])
    except RemoteError as exc:
        refused = tokens.refused(url, exc)
        if refused:
            return Check(source, remote, url, "needs a token", "the token was refused")
        if isinstance(exc.__cause__, FileNotFoundError):
            return Check(source, remote, url, "reachable", "it answers; this recent file is not there (yet)")
        return Check(source, remote, url, "unreachable", str(exc).split(": ", 1)[-1])
    return Check(source, remote, url, "reachable")


def check_all(sources=None, now=None) -> list[Check]:
    from geopipe.catalog import load
    from geopipe.sources import READERS

    cat = load()
    names = [s for s in (sources or READERS) if s in cat.sources]
    return [check_remote(s, r.name, now) for s in names for r in cat.source(s).remote]
