"""Remote inputs of monthly archives (ISGI/Kyoto indices, OMNI): catalog URL templates over a date range.

A source's ``remote`` entries in ``catalog/sources.yaml`` are ``str.format`` templates with
``{start:%Y%m}``-style fields.  :func:`monthly` formats one URL per calendar month of the
range (``start`` = the month's first day or the range start, ``end`` = its last day or the
range end), so each request covers at most one month; the readers then read those URLs
through fsspec like local files.  ``geopipe ingest isgi --remote kyoto_asysym --start 2017-09
--end 2017-10`` builds its inputs this way.
"""

from __future__ import annotations


from geopipe.errors import GeopipeError, ParameterError
from geopipe.lazy import lazy_import

pd = lazy_import("pandas")


def monthly(source: str, start, end, remote: str | None = None) -> tuple[list[str], dict]:
    """URLs of ``source``'s remote ``remote`` (default: its first) for each month in [start, end],
    and the remote's fsspec storage options."""
    from geopipe.catalog import load

    entry = load().source(source).remote_named(remote)
    first = pd.Timestamp(start)
    # "2017-10" as an end means the whole month
    last = pd.Period(end, "M").end_time.normalize() if isinstance(end, str) and len(end.strip()) == 7 else pd.Timestamp(end)
    if last < first:
        raise ParameterError(("start", "end"), f"{source}: {{end}} {last.date()} is before {{start}} {first.date()}")
    out = []
    for month in pd.period_range(first.to_period("M"), last.to_period("M"), freq="M"):
        a = max(first, month.start_time)
        b = min(last, month.end_time.normalize())
        try:
            url = entry.url.format(start=a.to_pydatetime(), end=b.to_pydatetime())
        except (KeyError, IndexError, ValueError) as exc:
            raise GeopipeError(f"{source}: remote {entry.name!r} URL template {entry.url!r} cannot be formatted ({exc})") from None
        out.append(url)
    return list(dict.fromkeys(out)), dict(entry.storage_options)


def add_arguments(parser, source: str) -> None:
    """``--remote NAME --start DATE --end DATE``: fetch the months of a range from the catalog's remote."""
    parser.add_argument("--remote", help=f"a remote named in catalog/sources.yaml for {source} (default: the first)")
    parser.add_argument("--start", help="first day to fetch (YYYY-MM or YYYY-MM-DD); builds URLs instead of SOURCE")
    parser.add_argument("--end", help="last day to fetch (default: --start)")


def options(args, source: str) -> dict:
    """Reader options from the parsed arguments: the built URLs go in ``inputs``."""
    if not getattr(args, "start", None):
        if getattr(args, "remote", None) or getattr(args, "end", None):
            raise ParameterError(("remote", "end"), f"{source}: need {{start}}")
        return {}
    urls, storage_options = monthly(source, args.start, args.end or args.start, args.remote)
    return {"inputs": list(args.inputs or []) + urls, "storage_options": storage_options or None,
            "remote_options": storage_options or None}
