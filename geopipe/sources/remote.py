"""Remote files through fsspec (HTTP, S3): ``.idx`` inventories, byte-range plans, fetches that retry and verify.

NOAA's model buckets (GFS, GDAS, HRRR, RAP) put a wgrib2 inventory beside every GRIB2 file
(``gfs.t00z.pgrb2.0p25.f000.idx``), one line per field::

    11:716770:d=2023120100:VVEL:100 mb:anl:
    12.1:734576:d=2023120100:UGRD:100 mb:anl:
    12.2:734576:d=2023120100:VGRD:100 mb:anl:

that is ``n[.sub]:byte offset:d=YYYYMMDDHH:VAR:level:forecast:``.  Lines ``12.1`` and ``12.2``
share one offset: they are two fields of one GRIB message.  A message runs from its offset
to the next *distinct* offset (the last one to the end of the file).

Planning picks the entries asked for and coalesces their byte ranges: neighbouring
messages share one range, and small gaps are read through while that costs at most 5 % more
bytes (:func:`plan_ranges`); fetching asks for each merged range once (fsspec ``cat_ranges``), checks that exactly the
asked number of bytes came back (a server that ignores ``Range`` sends the whole file and
is refused; a short body is retried) and retries 5xx answers, resets and short bodies with
exponential backoff, a bounded number of times, before raising :class:`RemoteError` naming
the URL.  Every reader that needs ranged or retried reads uses this module.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import random
import re
from collections.abc import Callable, Sequence


from geopipe.errors import InputError, RemoteError, reason
from geopipe.lazy import lazy_import
from geopipe.sources import polite

fsspec = lazy_import("fsspec")

log = logging.getLogger(__name__)

_LINE = re.compile(r"^(?P<n>\d+)(?:\.(?P<sub>\d+))?:(?P<offset>\d+):d=(?P<date>\d{8,12}):(?P<var>[^:]*):"
                   r"(?P<level>[^:]*):(?P<forecast>[^:]*)(?::(?P<extra>.*))?$")
_STATISTIC = re.compile(r"\b(ave|acc|max|min)\b")


@dataclasses.dataclass(frozen=True)
class IdxEntry:
    """One line of a wgrib2 inventory."""

    number: str  # "12" or "12.1"
    message: int  # 1-based message number
    sub: int  # 0-based field within the message (12.2 -> 1)
    offset: int  # byte offset of the message in the GRIB file
    date: str  # reference time YYYYMMDDHH
    var: str  # wgrib2 name: PWAT, UGRD ...
    level: str  # "850 mb", "10 m above ground" ...
    forecast: str  # "anl", "6 hour fcst", "0-6 hour ave fcst" ...

    @property
    def key(self) -> str:
        return f"{self.var}:{self.level}"

    @property
    def instant(self) -> bool:
        return not _STATISTIC.search(self.forecast)


def parse_idx(text: str, source: str) -> list[IdxEntry]:
    """Entries of a wgrib2 ``.idx``; ``InputError`` naming ``source`` and the line for a bad line."""
    out = []
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = _LINE.match(line.strip())
        if not m:
            raise InputError(source, f"not a wgrib2 inventory line: {line.strip()[:80]!r}", line=i)
        sub = int(m["sub"]) - 1 if m["sub"] else 0
        out.append(IdxEntry(m["n"] + (f".{m['sub']}" if m["sub"] else ""), int(m["n"]), sub, int(m["offset"]),
                            m["date"], m["var"], m["level"], m["forecast"]))
    if not out:
        raise InputError(source, "the inventory is empty")
    if any(b.offset < a.offset for a, b in itertools.pairwise(out)):
        raise InputError(source, "the inventory's byte offsets are not in increasing order")
    return out


def find_entry(entries: Sequence[IdxEntry], key: str, source: str) -> IdxEntry:
    """The entry for ``VAR:level`` (or ``VAR:level:forecast``); an instantaneous one when the
    file also holds averages or accumulations of it.  ``InputError`` naming the field if absent."""
    hits = [e for e in entries if e.key == key or f"{e.key}:{e.forecast}" == key]
    if not hits:
        raise InputError(source, f"field {key!r} is not in the inventory")
    instant = [e for e in hits if e.instant]
    hits = instant or hits
    if len({e.forecast for e in hits}) > 1:
        options = ", ".join(repr(f"{e.key}:{e.forecast}") for e in hits)
        raise InputError(source, f"field {key!r} is in the inventory {len(hits)} times ({options}); name one")
    return hits[0]


def message_spans(entries: Sequence[IdxEntry]) -> dict[int, int | None]:
    """Offset of each message -> offset where it ends (the next distinct offset; None for the last)."""
    offsets = sorted({e.offset for e in entries})
    return dict(itertools.pairwise([*offsets, None]))


#: gaps of unwanted bytes up to this size may be read through, to save a request: at
#: ~50 ms a request and ~20 MB/s, one request costs about the time of 1 MB
DEFAULT_MAX_GAP = 2**20
#: bytes read through gaps, at most this fraction of the bytes asked for
DEFAULT_MAX_WASTE = 0.05


def plan_ranges(entries: Sequence[IdxEntry], wanted: Sequence[IdxEntry], max_gap: int = DEFAULT_MAX_GAP,
                max_waste: float = DEFAULT_MAX_WASTE) -> list[tuple[int, int | None]]:
    """Coalesced ``[start, end)`` byte ranges holding the messages of ``wanted`` (end None: to
    the end of file), each message once (the fields of one message share its range).

    Neighbouring messages always share a range.  Ranges parted by unwanted bytes are joined
    too, smallest gap first, while the gap is at most ``max_gap`` bytes and all the gaps
    read through stay within ``max_waste`` of the bytes asked for -- so a plan never fetches
    more than ``1 + max_waste`` times what it needs, in as few requests as that allows.
    """
    spans = message_spans(entries)
    runs: list[list] = []  # adjacent messages first: [start, end]
    for start in sorted({e.offset for e in wanted}):
        end = spans[start]
        if runs and runs[-1][1] == start:
            runs[-1][1] = end
        else:
            runs.append([start, end])
    needed = sum(b - a for a, b in runs if b is not None)
    gaps = sorted((b[0] - a[1], i) for i, (a, b) in enumerate(itertools.pairwise(runs)))
    budget, join = max_waste * needed, set()
    for gap, i in gaps:
        if gap > max_gap or gap > budget:
            break
        budget -= gap
        join.add(i)
    out: list[list] = []
    for i, run in enumerate(runs):
        if i - 1 in join:
            out[-1][1] = run[1]
        else:
            out.append(list(run))
    return [(a, b) for a, b in out]


def range_bytes(ranges: Sequence[tuple[int, int | None]], size: int) -> int:
    """Bytes a plan of :func:`plan_ranges` fetches from a file of ``size`` bytes."""
    return sum((size if b is None else b) - a for a, b in ranges)


# ----------------------------------------------------------------------------- fetching


@dataclasses.dataclass(frozen=True)
class Retry:
    """How hard to try: ``attempts`` tries in all, waiting ``base_delay * 2**k`` s (at most
    ``max_delay``, with jitter) between them; a connection silent for ``timeout`` s counts as
    failed (a stalled server would otherwise hold a read for aiohttp's default 5 minutes)."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 16.0
    timeout: float = 30.0

    def wait(self, attempt: int, retry_after: float | None = None) -> None:
        """Back off before try ``attempt``; a server's ``Retry-After`` (429, 503) is honoured, up to
        ``4 * max_delay``."""
        delay = min(self.max_delay, self.base_delay * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
        if retry_after is not None:
            delay = max(delay, min(retry_after, 4 * self.max_delay))
        polite.sleep(delay)


class _ShortBody(OSError):
    """A body shorter than asked: the connection dropped mid-transfer."""


def _retriable(exc: BaseException) -> bool:
    if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError, RemoteError)):
        return False  # 404 / 403: asking again will not help
    status = getattr(exc, "status", None) or getattr(exc, "status_code", None)
    if isinstance(status, int):
        # NOMADS answers an over-eager client with 302 (to an error page) or 429
        return status >= 500 or status in (302, 408, 429)
    if isinstance(exc, (OSError, TimeoutError)):
        return True
    return any(c.__module__.split(".")[0] in ("aiohttp", "botocore", "aiobotocore", "urllib3", "requests")
               for c in type(exc).__mro__)


def _describe(exc: BaseException) -> str:
    status = getattr(exc, "status", None)
    if isinstance(status, int):
        return f"HTTP {status} {getattr(exc, 'message', '')}".strip()
    if isinstance(exc, TimeoutError):
        return "timed out"
    return reason(exc)


def filesystem(url: str, storage_options: dict | None = None, timeout: float | None = None):
    """The fsspec filesystem and path of ``url``, with connect/read timeouts of ``timeout`` s
    unless ``storage_options`` sets its own."""
    options = dict(storage_options or {})
    if timeout and url.startswith(("http://", "https://")) and "timeout" not in options.get("client_kwargs", {}):
        import aiohttp

        options["client_kwargs"] = {**options.get("client_kwargs", {}),
                                    "timeout": aiohttp.ClientTimeout(sock_connect=timeout, sock_read=timeout)}
    elif timeout and url.startswith("s3://") and "config_kwargs" not in options:
        options["config_kwargs"] = {"connect_timeout": timeout, "read_timeout": timeout}
    return fsspec.core.url_to_fs(url, **options)


def _retry_after(exc: BaseException | None) -> float | None:
    """Seconds from a ``Retry-After`` header of an HTTP error (aiohttp keeps the headers)."""
    headers = getattr(exc, "headers", None) or {}
    try:
        return float(headers.get("Retry-After")) if headers.get("Retry-After") is not None else None
    except (TypeError, ValueError):
        return None


def _with_retry(url: str, what: str, call: Callable[[], object], retry: Retry):
    last = None
    for attempt in range(retry.attempts):
        if attempt:
            retry.wait(attempt, _retry_after(last))
        polite.throttle(url)
        try:
            return call()
        except Exception as exc:  # sorted into retriable or not just below
            if not _retriable(exc):
                raise RemoteError(f"{url}: {what}: {_describe(exc)}") from exc
            last = exc
            log.info("%s: %s failed (%s), attempt %d of %d", url, what, _describe(exc), attempt + 1, retry.attempts)
    raise RemoteError(f"{url}: {what} failed after {retry.attempts} attempts: {_describe(last)}") from last


def call_with_retry(url: str, what: str, call: Callable[[], object], retry: Retry = Retry()):
    """``call()`` with the retries, rate limit and error text of every remote read here."""
    return _with_retry(url, what, call, retry)


def exists(url: str, storage_options: dict | None = None, retry: Retry = Retry()) -> bool:
    """Whether ``url`` exists (404 -> False; 5xx, 429 and resets are retried)."""
    fs, path = filesystem(url, storage_options, retry.timeout)
    try:
        _with_retry(url, "probe", lambda: fs.info(path), retry)
    except RemoteError as exc:
        if isinstance(exc.__cause__, FileNotFoundError):
            return False
        raise
    return True


def fetch_file(url: str, storage_options: dict | None = None, retry: Retry = Retry()) -> bytes:
    """The whole of a small remote file (an ``.idx``), retried like :func:`fetch_ranges`."""
    fs, path = filesystem(url, storage_options, retry.timeout)
    return _with_retry(url, "download", lambda: fs.cat_file(path), retry)


def remote_size(url: str, storage_options: dict | None = None, retry: Retry = Retry()) -> int:
    fs, path = filesystem(url, storage_options, retry.timeout)
    return int(_with_retry(url, "size", lambda: fs.size(path), retry))


def fetch_ranges(url: str, ranges: Sequence[tuple[int, int | None]], storage_options: dict | None = None,
                 retry: Retry = Retry()) -> list[bytes]:
    """The bytes of each ``[start, end)`` range of ``url`` (end None: to the end of the file).

    All ranges go out together (``cat_ranges``); the ones that fail or come back short are
    asked again, after a backoff, up to ``retry.attempts`` times in all.  A body longer than
    its range means the server ignored ``Range``: refused at once.
    """
    if any(b is None for _, b in ranges):
        size = remote_size(url, storage_options, retry)
        ranges = [(a, size if b is None else b) for a, b in ranges]
    fs, path = filesystem(url, storage_options, retry.timeout)
    out: list[bytes | None] = [None] * len(ranges)
    pending, errors = list(range(len(ranges))), {}
    for attempt in range(retry.attempts):
        if attempt:
            retry.wait(attempt)
        polite.throttle(url)
        results = fs.cat_ranges([path] * len(pending), [ranges[i][0] for i in pending],
                                [ranges[i][1] for i in pending], on_error="return")
        still = []
        for i, res in zip(pending, results):
            a, b = ranges[i]
            if not isinstance(res, BaseException) and len(res) < b - a:
                res = _ShortBody(f"short body: {len(res)} of {b - a} bytes")
            if isinstance(res, BaseException):
                if not _retriable(res):
                    raise RemoteError(f"{url}: bytes {a}-{b - 1}: {_describe(res)}") from res
                errors[i] = _describe(res)
                still.append(i)
            elif len(res) > b - a:
                raise RemoteError(f"{url}: asked for bytes {a}-{b - 1} ({b - a} bytes) and got {len(res)}: "
                                  "the server ignored the Range request")
            else:
                out[i] = bytes(res)
        if still and attempt + 1 < retry.attempts:
            log.info("%s: %d of %d ranges failed (%s), attempt %d of %d", url, len(still), len(pending),
                     errors[still[0]], attempt + 1, retry.attempts)
        pending = still
        if not pending:
            return out
    a, b = ranges[pending[0]]
    raise RemoteError(f"{url}: bytes {a}-{b - 1} failed after {retry.attempts} attempts: {errors[pending[0]]}")
