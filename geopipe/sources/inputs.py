"""Remote inputs of a source for a time range: one shape for every source (``remote_inputs``).

Every reader answers ``reader.remote_inputs(start, end, remote=..., **options)`` with a
:class:`RemoteInputs`:

``groups``    one list of candidate URLs per request; the first candidate that exists is fetched
              (Kyoto Dst: final, then provisional, then realtime).  A one-URL group is fetched as is.
``listings``  bucket prefixes to list (GOES): each must list at least one matching file, or the
              run fails naming the prefix (an outage is never a green run that ingested nothing)
``probes``    URLs that will be probed to decide what to fetch (GFS ``latest``: the ``.idx`` files)

:meth:`RemoteInputs.lines` is what ``geopipe ingest ... --dry-run`` prints (no network);
:meth:`RemoteInputs.resolve` turns the plan into the URLs to ingest.

Catalog remotes (``catalog/sources.yaml``) are ``str.format`` templates formatted once per
period of the range (:func:`periods`): ``month`` (default), ``year``, ``day``, ``range`` (one
request for the whole range) or ``recent`` (a "last N days" product: ``{window}`` is the
smallest of SWPC's 2-hour ... 7-day windows that covers the range).  Besides ``{start}`` and
``{end}`` (datetimes) a template may use ``{tens}``, ``{year_digit}``, ``{day_tens}``,
``{day_digit}`` (the start date split as Kyoto's CGI wants it), ``{dur_day_tens}``,
``{dur_day}``, ``{dur_hour}``, ``{dur_min}`` (the period's length) and the reader's options
(``{index}`` for ISGI).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from geopipe.errors import GeopipeError, ParameterError, RemoteError
from geopipe.lazy import lazy_import

pd = lazy_import("pandas")

#: SWPC's real-time windows, shortest first
WINDOWS = (("2-hour", 2), ("6-hour", 6), ("1-day", 24), ("3-day", 72), ("7-day", 168))  # hours


@dataclasses.dataclass
class Listing:
    """A bucket prefix to list; ``keep(key)`` picks the files wanted from its keys."""

    prefix: str
    keep: Callable[[str], bool]
    storage_options: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class RemoteInputs:
    source: str
    remote: str
    groups: list[list[str]] = dataclasses.field(default_factory=list)
    listings: list[Listing] = dataclasses.field(default_factory=list)
    probes: list[str] = dataclasses.field(default_factory=list)
    storage_options: dict = dataclasses.field(default_factory=dict)
    #: resolves the plan when it needs more than listing and probing (GFS ``latest``)
    resolver: Callable[[], list[str]] | None = None

    def lines(self) -> list[str]:
        """Every URL it would fetch, prefix it would list and file it would probe (no network)."""
        out = [u for group in self.groups for u in group] + [x.prefix for x in self.listings] + self.probes
        return list(dict.fromkeys(out))

    def resolve(self) -> list[str]:
        """The URLs to ingest; ``RemoteError`` names a prefix that lists nothing or a group of which
        no candidate exists."""
        if self.resolver is not None:
            return self.resolver()
        out = [group[0] if len(group) == 1 else first_existing(group, self.storage_options) for group in self.groups]
        for listing in self.listings:
            found = list_prefix(listing)
            if not found:
                raise RemoteError(f"{self.source}: {listing.prefix} lists no file of the scans asked for: "
                                  "the archive has nothing for that hour (an outage, or the wrong satellite)")
            out.extend(found)
        return sorted(dict.fromkeys(out)) if self.listings else out


def list_prefix(listing: Listing) -> list[str]:
    """The wanted files under a prefix (fresh listing: new scans arrive every few minutes)."""
    from geopipe.sources import remote

    fs, path = remote.filesystem(listing.prefix, listing.storage_options, remote.Retry().timeout)
    proto = listing.prefix.split("://", 1)[0]
    try:
        names = remote.call_with_retry(listing.prefix, "list", lambda: fs.ls(path, detail=False, refresh=True))
    except RemoteError as exc:
        if isinstance(exc.__cause__, FileNotFoundError):
            return []
        raise
    return sorted(f"{proto}://{k.lstrip('/')}" for k in names if listing.keep(k))


def first_existing(candidates: list[str], storage_options: dict | None = None) -> str:
    """The first candidate URL that exists (each asked once, with the usual retries)."""
    from geopipe.sources import remote

    for url in candidates:
        if remote.exists(url, storage_options):
            return url
    raise RemoteError(f"none of {', '.join(candidates)} exists")


# ----------------------------------------------------------------------------- catalog templates


def parse_range(start, end=None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[start, end] as Timestamps; ``end`` "2017-10" means the whole month, default ``start``'s day/month."""
    if start is None:
        raise GeopipeError("a remote time range needs a start")
    first = pd.Timestamp(start)
    end = start if end is None else end
    if isinstance(end, str) and len(end.strip()) == 7:
        last = pd.Period(end, "M").end_time.floor("min")
    elif isinstance(end, str) and len(end.strip()) == 10:
        last = pd.Timestamp(end) + pd.Timedelta(days=1) - pd.Timedelta(minutes=1)
    else:
        last = pd.Timestamp(end)
    if first.tzinfo:
        first = first.tz_convert(None)
    if last.tzinfo:
        last = last.tz_convert(None)
    if last < first:
        raise GeopipeError(f"the time range ends ({last}) before it starts ({first})")
    return first, last


def periods(first: pd.Timestamp, last: pd.Timestamp, period: str) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """[a, b] pieces of [first, last], one per request."""
    if period in ("range", "recent"):
        return [(first, last)]
    freq = {"month": "M", "year": "Y", "day": "D"}.get(period)
    if freq is None:
        raise GeopipeError(f"remote period {period!r}: expected month, year, day, range or recent")
    out = []
    for p in pd.period_range(first.to_period(freq), last.to_period(freq), freq=freq):
        out.append((max(first, p.start_time), min(last, p.end_time.floor("min"))))
    return out


def window(first: pd.Timestamp, now: pd.Timestamp | None = None) -> str:
    """The shortest real-time window (SWPC ``2-hour`` ... ``7-day``) reaching back to ``first``."""
    now = now if now is not None else pd.Timestamp.now(tz="UTC").tz_localize(None)
    for name, hours in WINDOWS:
        if now - pd.Timedelta(hours=hours) <= first:
            return name
    raise GeopipeError(f"{first} is more than 7 days ago: the real-time products hold the last 7 days only "
                       "(use the archive remote for older data)")


def fields(a: pd.Timestamp, b: pd.Timestamp, **options) -> dict:
    """Template fields for one request covering [a, b] (b the last minute wanted)."""
    length = b + pd.Timedelta(minutes=1) - a
    days, rest = length.days, length - pd.Timedelta(days=length.days)
    return {"start": a.to_pydatetime(), "end": b.to_pydatetime(), "tens": f"{a.year // 10:03d}",
            "year_digit": a.year % 10, "day_tens": a.day // 10, "day_digit": a.day % 10,
            "dur_day_tens": f"{days // 10:02d}", "dur_day": days % 10,
            "dur_hour": f"{rest.seconds // 3600:02d}", "dur_min": f"{rest.seconds // 60 % 60:02d}", **options}


def from_catalog(source: str, start, end=None, remote: str | None = None, now=None, **options) -> RemoteInputs:
    """The requests of ``source``'s catalog remote ``remote`` (default: its first) over [start, end]."""
    from geopipe.catalog import load

    entry = load().source(source).remote_named(remote)
    first, last = parse_range(start, end)
    groups = []
    for a, b in periods(first, last, entry.period):
        values = fields(a, b, **options)
        if entry.period == "recent":
            values["window"] = window(a, pd.Timestamp(now) if now is not None else None)
        for template in [entry.url, *entry.also]:
            candidates = [template, *entry.fallback] if template == entry.url else [template]
            try:
                groups.append(list(dict.fromkeys(t.format(**values) for t in candidates)))
            except (KeyError, IndexError, ValueError) as exc:
                raise GeopipeError(f"{source}: remote {entry.name!r} URL template {template!r} cannot be "
                                   f"formatted ({exc}); give it as an option") from None
    unique = list({tuple(g): g for g in groups}.values())
    return RemoteInputs(source, entry.name, groups=unique, storage_options=dict(entry.storage_options))


def add_arguments(parser, source: str) -> None:
    """``--remote NAME --start DATE --end DATE``: build the inputs from the catalog's remote."""
    parser.add_argument("--remote", help=f"a remote named in catalog/sources.yaml for {source} (default: the first)")
    parser.add_argument("--start", help="first day to fetch (YYYY-MM, YYYY-MM-DD or a time); builds URLs instead of SOURCE")
    parser.add_argument("--end", help="last day to fetch (default: --start)")


def request(args, source: str, **options) -> dict:
    """Reader options from parsed ``--remote/--start/--end``: the plan goes in ``remote_inputs``."""
    if not getattr(args, "start", None):
        if getattr(args, "remote", None) or getattr(args, "end", None):
            raise ParameterError(("remote", "end"), f"{source}: need {{start}}")
        return {}
    from geopipe.sources import reader_class

    plan = reader_class(source).remote_inputs(args.start, args.end, remote=args.remote, **options)
    return {"remote_inputs": plan}
