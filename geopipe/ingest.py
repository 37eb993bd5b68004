"""The shared ingest driver: find inputs, read each with its source reader, write through the store.

A bad input never reaches the store: its ``InputError`` is recorded in the quarantine
(``<root>/quarantine/<source>/...json`` with the reason) and the good inputs go on.
Files are written one at a time, in order; a reader with ``prefetch = n`` (GFS: byte
ranges far away) has its next ``n`` files fetched in background threads meanwhile, so
downloading overlaps decoding and writing.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime as _dt
import functools
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

from geopipe import atomic, progress, validate
from geopipe.config import data_root, is_url, join_url, resolve_store
from geopipe.errors import GeopipeError, InputError, RemoteError, StoreError, reason
from geopipe.provenance import file_record
from geopipe.sources import get_reader

log = logging.getLogger(__name__)


@dataclasses.dataclass
class IngestReport:
    source: str
    store: str
    files: int = 0
    written: int = 0
    skipped: int = 0
    quarantined: list[dict] = dataclasses.field(default_factory=list)
    failed: list[dict] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def summary(self) -> str:
        bad = f", {len(self.quarantined)} quarantined" if self.quarantined else ""
        return (f"{self.source}: {self.files} files -> {self.store}: {self.written} new steps, "
                f"{self.skipped} already present{bad}")


def quarantine(source: str, path: str, reason: str, root=None) -> dict:
    """Record a bad input under ``<root>/quarantine/<source>/`` with the reason."""
    now = _dt.datetime.now(_dt.timezone.utc)
    record = {"source": source, "path": str(path), "reason": reason, "time": now.isoformat(timespec="seconds")}
    try:
        record.update({k: v for k, v in file_record(path).items() if k != "path"})
    except Exception:  # an unreadable file is still quarantined, without its hash
        pass
    base = data_root(root)
    name = f"{now:%Y%m%dT%H%M%S}-{os.path.basename(str(path))}.json"
    where = join_url(base, "quarantine", source, name) if is_url(base) else os.path.join(base, "quarantine", source, name)
    atomic.write_json(where, record, indent=1)  # a reader never sees half a record
    log.warning("quarantined %s: %s", path, reason)
    return record


def _open(reader, path: str):
    """Read one input; any failure becomes an ``InputError`` naming the file."""
    from geopipe.sources.tokens import TokenError

    try:
        return reader.open_dataset(path)
    except (InputError, RemoteError, TokenError):  # a missing or refused token stops the run
        raise
    except Exception as exc:  # decoders raise many types; the user needs file + problem
        msg = reason(exc)
        raise InputError(path, f"cannot be read as {reader.name}: {msg}") from exc


def _opening(reader, files: Sequence[str]) -> Iterator[tuple[str, Callable]]:
    """``(path, open)`` in file order, ``open()`` giving the file's Dataset (or raising);
    the next ``reader.prefetch`` files are opened in background threads meanwhile."""
    ahead = int(getattr(reader, "prefetch", 0) or 0)
    if ahead <= 0:
        for path in files:
            yield path, functools.partial(_open, reader, path)
        return
    pool = ThreadPoolExecutor(ahead, thread_name_prefix="geopipe-prefetch")
    queue: collections.deque = collections.deque()
    try:
        for path in files:
            queue.append((path, pool.submit(_open, reader, path)))
            if len(queue) > ahead:
                done, future = queue.popleft()
                yield done, future.result
        while queue:
            done, future = queue.popleft()
            yield done, future.result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def ingest(source: str, specs: Sequence[str], store: str, root=None, storage_options: dict | None = None,
           strict: bool = False, on_file: Callable[[str, object], None] | None = None,
           write_gate: Callable[[], contextlib.AbstractContextManager] | None = None,
           allow_out_of_range: bool = False, **options) -> IngestReport:
    """Ingest ``specs`` (files, folders, globs, URLs) of ``source`` into ``store``.

    With ``strict`` the first bad file raises its ``InputError`` (the CLI's default for a
    single file); otherwise bad files are quarantined and the rest ingested.  ``write_gate``
    (a context-manager factory) is entered around each store write: the flows use it to let
    files download and decode in parallel but reach the store in time order.
    """
    reader = get_reader(source, **options)
    url = resolve_store(store, root)
    files = reader.find(specs, storage_options=storage_options)
    if not files:
        raise GeopipeError(f"{source}: no input files found in {', '.join(map(str, specs))}")
    report = IngestReport(source=source, store=url)
    for path, opened in progress.over_files(_opening(reader, files), files, f"ingest {source}"):
        t0 = time.perf_counter()
        try:
            ds = opened()
            flags = validate.check(ds, reader.name, path, allow_out_of_range)
            record = getattr(ds, "attrs", {}).pop("_geopipe_record", None) or file_record(path, storage_options)
            record = json.loads(record) if isinstance(record, str) else record
            if flags:
                record = {**record, "out_of_range": flags}
                log.warning("%s: kept out-of-range values (%s)", path, "; ".join(f["first"] for f in flags))
            with write_gate() if write_gate else contextlib.nullcontext():
                try:
                    result = reader.write(ds, url, sources=[record], storage_options=storage_options)
                except StoreError as exc:  # the input does not fit the store (another grid...): name the input
                    raise InputError(path, f"does not fit {exc}") from exc
        except InputError as exc:
            if strict:
                raise
            report.quarantined.append(quarantine(source, path, str(exc), root=root))
            continue
        except RemoteError as exc:
            # not a bad file: the network failed after its retries.  Go on with the others,
            # then fail loudly so a scheduler retries the run (never a silent skip).
            if strict:
                raise
            report.failed.append({"path": str(path), "reason": str(exc)})
            log.info("could not fetch %s: %s", path, exc)  # the run's one error line follows
            continue
        report.files += 1
        report.written += getattr(result, "written", 0)
        report.skipped += getattr(result, "skipped", 0)
        log.info("%s: read %s (%s) in %.1f s: %d new steps, %d already present", source, path,
                 progress.human_bytes(record.get("size") or 0) if isinstance(record, dict) else "?",
                 time.perf_counter() - t0, getattr(result, "written", 0), getattr(result, "skipped", 0))
        if on_file:
            on_file(path, result)
    if report.failed:
        first = report.failed[0]
        raise RemoteError(f"{len(report.failed)} of {len(files)} {source} inputs could not be fetched "
                          f"(the others were ingested); first: {first['reason']}")
    return report


def ingest_remote(source: str, start=None, end=None, store: str | None = None, remote: str | None = None,
                  root=None, **options) -> IngestReport:
    """Fetch ``source``'s remote inputs for [start, end] and ingest them (the library entry point
    for scheduled jobs, e.g. ``ingest_remote("omni", now - 2 h, now, remote="swpc")``).

    ``options`` go to the reader's ``remote_inputs`` (GFS ``cycle``/``fhours``, GOES ``satellite``/
    ``product``/``bands``, ISGI ``index``) and to the reader; ``store`` defaults to the catalog
    product's store.
    """
    from geopipe.catalog import load
    from geopipe.sources import reader_class

    cls = reader_class(source)
    plan = cls.remote_inputs(start, end, remote=remote, **options)
    urls = plan.resolve()
    if not urls:
        raise RemoteError(f"{source}: the remote {plan.remote!r} has no inputs for {start} to {end}")
    store = store or load().store_path(load().source(source).product, root)
    reader_options = {k: v for k, v in options.items() if k in ("vars", "grid", "method")}
    return ingest(source, urls, store, root=root, remote_options=plan.storage_options or None, **reader_options)
