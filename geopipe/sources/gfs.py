"""NOAA GFS (and any NCEP-style GRIB2 on a regular or Gaussian grid): local files or remote ranges -> Dataset.

A file becomes a Dataset of dims ``(time, latitude, longitude)``, ``time`` the valid time,
with ``init_time`` and ``step`` as coordinates along ``time`` and the grid exactly as the
file has it (GFS: latitude 90 -> -90, longitude 0 -> 359.75).  Variables are float32, NaN
where the bitmap has no value, with CF and ``GRIB_*`` attributes.

*What* is read is a selection ``SHORTNAME[:LEVEL]`` (``pwat``, ``u10``, ``absv:850``; LEVEL in
hPa for isobaric levels, or a ``typeOfLevel`` such as ``t:tropopause``); names in the
catalog's ``gfs.variables`` map to their GRIB keys and ``.idx`` line.  Without a selection a
local file gives every field, named by :attr:`geopipe.sources.grib.Field.name`; a remote
one the catalog's ``default_vars``.  When a field comes both instantaneous and averaged the
instantaneous one is kept (:data:`~geopipe.sources.grib.STEP_PREFERENCE`), its ``stepType``
recorded in ``GRIB_stepType``, and a store never mixes step types in one variable.

Remote inputs (``https://``, ``s3://``) are read through their ``.idx``: only the byte
ranges of the asked fields are fetched (:mod:`geopipe.sources.remote`) and decoded from memory.
Fields become a Dataset, decoded lazily, in :mod:`geopipe.sources.gribset`.
"""

from __future__ import annotations

import hashlib
import math
import mmap
import os
import re

import numpy as np

from geopipe.config import is_url
from geopipe.errors import InputError, ParameterError
from geopipe.sources import gfs_remote, grib, gribset, remote
from geopipe.sources.base import SourceReader
from geopipe.lazy import lazy_import

pd = lazy_import("pandas")
xr = lazy_import("xarray")
_store = lazy_import("geopipe.store")

#: wgrib2 names of eccodes short names, for ``.idx`` lines of selections not in the catalog
WGRIB2_NAMES = {"t": "TMP", "u": "UGRD", "v": "VGRD", "gh": "HGT", "r": "RH", "q": "SPFH", "w": "VVEL",
                "wz": "DZDT", "absv": "ABSV", "clwmr": "CLWMR", "o3mr": "O3MR", "pwat": "PWAT", "prmsl": "PRMSL"}
_GRIB_NAME = re.compile(r"(pgrb2|pgrbf\d|\.grib2?$|\.grb2?$)")


def parse_selection(text: str) -> gribset.Selection:
    """``pwat`` / ``u10`` (catalog names), ``absv:850`` (hPa), ``t:tropopause`` -> :class:`~geopipe.sources.gribset.Selection`."""
    from geopipe.catalog import load

    catalog = load().source("gfs").variables
    short, _, level = text.strip().partition(":")
    if not short:
        raise ParameterError("vars", "an empty variable name", text)
    try:
        hpa = float(level) if level else None
    except ValueError:
        hpa = None
    name = f"{short}{grib.fmt_level(hpa)}" if hpa is not None else (short if not level else None)
    entry = catalog.get(name or "")
    # "absv:850" is the catalog's absv850; "u:10" (10 hPa) is not its u10 (the 10 m wind)
    if entry and (not level or (entry.get("shortName") == short and entry.get("level") is not None
                                and str(entry.get("typeOfLevel", "")).startswith("isobaric")
                                and math.isclose(float(entry["level"]), hpa))):
        return gribset.Selection(text, name, str(entry["shortName"]), entry.get("typeOfLevel"),
                         float(entry["level"]) if "level" in entry else None, entry.get("idx"))
    if hpa is not None:
        name = name + "hPa" if name in grib.HEIGHT_NAMES else name
        return gribset.Selection(text, name, short, "isobaricInhPa", hpa, f"{WGRIB2_NAMES.get(short, short.upper())}:{level.strip()} mb")
    return gribset.Selection(text, None, short, level or None)


def parse_fhours(text: str) -> list[int]:
    """Forecast hours: ``0-48/6`` -> 0, 6, ..., 48; ``0,6,12``; combinations ``0-12/3,24``."""
    out = []
    for part in str(text).split(","):
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*(?:/\s*(\d+)\s*)?)?", part)
        if not m:
            raise ParameterError("fhours", "expected e.g. 0-48/6 or 0,6,12", text)
        a, b, step = int(m[1]), int(m[2] or m[1]), int(m[3] or 1)
        if b < a or step < 1:
            raise ParameterError("fhours", "an empty range", part.strip())
        out.extend(range(a, b + 1, step))
    return sorted(set(out))


def remote_urls(cycle, fhours, remote_name: str = "auto", res: str = "0p25", now=None) -> tuple[list[str], dict]:
    """URLs of the GFS files of ``cycle`` at ``fhours`` and their storage options
    (:func:`geopipe.sources.gfs_remote.cycle_urls`)."""
    return gfs_remote.cycle_urls(cycle, fhours, remote_name, res, now)


def _storage_options_for(url: str) -> dict:
    """The catalog's options for a URL under one of its remotes (anonymous S3 for NOAA's bucket)."""
    from geopipe.catalog import load

    for entry in load().source("gfs").remote:
        if url.startswith(entry.url[:entry.url.index("{")]):
            return dict(entry.storage_options)
    return {}


class GFSReader(SourceReader):
    """NOAA GFS GRIB2 (pgrb2): local files, or remote files read by .idx byte ranges."""

    name = "gfs"
    suffixes = (".grib2", ".grb2", ".grib", ".grb")
    #: files fetched ahead while one is written (geopipe.ingest): downloads overlap decoding
    prefetch = 2

    def __init__(self, **options):
        super().__init__(**options)
        vars_ = options.get("vars")
        vars_ = vars_.split(",") if isinstance(vars_, str) else vars_
        self.selections = [parse_selection(v) for v in vars_ if v.strip()] if vars_ else None
        self.retry = options.get("retry") or remote.Retry()

    # -- discovery -----------------------------------------------------------------------
    def guess_can_open(self, path: str) -> bool:
        name = os.path.basename(str(path)).lower()
        if name.endswith(".idx"):
            return False
        if super().guess_can_open(path) or _GRIB_NAME.search(name):
            return True
        try:
            with open(path, "rb") as fh:
                return fh.read(4) == b"GRIB"
        except OSError:
            return False

    def find(self, specs, storage_options=None):
        urls = [s for s in map(str, specs) if is_url(s) and not any(ch in s for ch in "*?[")]
        rest = [s for s in map(str, specs) if s not in urls]
        return sorted(dict.fromkeys(urls + (super().find(rest, storage_options) if rest else [])))

    # -- reading -------------------------------------------------------------------------
    def open_dataset(self, path: str) -> xr.Dataset:
        path = str(path)
        return self._open_remote(path) if is_url(path) and not path.startswith("file://") else self._open_local(path)

    def _open_local(self, path: str) -> xr.Dataset:
        path = path.removeprefix("file://")
        if os.path.getsize(path) == 0:
            raise InputError(path, "the file is empty")
        fields, payloads = [], {}
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            for i, (offset, length) in enumerate(grib.scan_messages(buf, path)):
                try:
                    parts = grib.split_fields(buf[offset:offset + length])
                    for j, message in enumerate(parts):
                        fields.append(grib.read_field(message, i, j))
                        payloads[(i, j)] = (path, offset, length, j)
                except Exception as exc:  # a corrupt header: name the message
                    raise InputError(path, f"GRIB message {i + 1} at byte {offset} cannot be read ({exc})") from exc
        return gribset.to_dataset(gribset.choose(fields, self.selections, path), payloads, path)

    def _open_remote(self, url: str) -> xr.Dataset:
        options = self.options.get("remote_options") or _storage_options_for(url)
        idx_url = url + ".idx"
        entries = remote.parse_idx(remote.fetch_file(idx_url, options, self.retry).decode("ascii", "replace"), idx_url)
        selections = self.selections or [parse_selection(v) for v in _default_vars()]
        wanted = []
        for sel in selections:
            if not sel.idx:
                raise InputError(url, f"{sel.text!r} has no .idx line to look up; for remote files use a catalog "
                                      "variable or NAME:LEVEL in hPa")
            wanted.append((sel, remote.find_entry(entries, sel.idx, idx_url)))
        ranges = remote.plan_ranges(entries, [e for _, e in wanted])
        blobs = remote.fetch_ranges(url, ranges, options, self.retry)
        messages = {}
        for (start, _), blob in zip(ranges, blobs):
            spans = grib.scan_messages(blob, f"{url} (bytes from {start})")
            if spans[0][0] != 0 or sum(n for _, n in spans) != len(blob):
                raise InputError(url, f"the bytes from {start} are not whole GRIB messages: the .idx does not match the file")
            messages.update({start + a: blob[a:a + n] for a, n in spans})
        fields, payloads = [], {}
        for sel, entry in wanted:
            if entry.offset not in messages:
                raise InputError(url, f"the .idx puts {entry.key} at byte {entry.offset}, where no GRIB message starts")
            parts = grib.split_fields(messages[entry.offset])
            field = grib.read_field(parts[min(entry.sub, len(parts) - 1)], entry.message - 1, entry.sub)
            if entry.sub >= len(parts) or not sel.matches(field):
                raise InputError(url, f"the .idx puts {entry.key} at byte {entry.offset}, but the message there "
                                      f"holds {field.name}: the .idx does not match the file")
            fields.append(field)
            payloads[(field.message, field.sub)] = parts[entry.sub]
        ds = gribset.to_dataset(gribset.choose(fields, selections, url), payloads, url)
        digest = hashlib.sha256()
        for blob in blobs:
            digest.update(blob)
        ds.attrs["_geopipe_record"] = {"path": url, "size": sum(map(len, blobs)), "sha256": digest.hexdigest(),
                                       "ranges": [[a, a + len(b)] for (a, _), b in zip(ranges, blobs)]}
        return ds

    # -- writing -------------------------------------------------------------------------
    def write(self, ds: xr.Dataset, store: str, sources, storage_options: dict | None = None):
        _check_store(ds, store, storage_options)
        return super().write(ds, store, sources, storage_options)

    # -- command line --------------------------------------------------------------------
    @classmethod
    def add_arguments(cls, parser) -> None:
        parser.add_argument("--vars", help="comma-separated SHORTNAME[:LEVEL] (LEVEL in hPa for isobaric), e.g. "
                                           "pwat,prmsl,u10,v10,absv:850 (default: every field of a local file, "
                                           "the catalog's default_vars for --cycle)")
        parser.add_argument("--cycle", help="fetch a GFS cycle instead of SOURCE, e.g. 2024-09-26T00, or "
                                            "'latest' (the newest cycle whose files are published)")
        parser.add_argument("--fhours", default="0", help="forecast hours with --cycle: 0-48/6, 0,6,12 (default 0)")
        parser.add_argument("--resolution", default="0p25", help="with --cycle: NOAA product resolution "
                                                                  "0p25, 0p50 or 1p00 (default 0p25)")
        parser.add_argument("--remote", default="auto", help="with --cycle: auto (nomads for the last days, "
                                                             "else aws), aws or nomads (catalog/sources.yaml), "
                                                             "or a URL base laid out like NOAA's bucket")

    @classmethod
    def options(cls, args) -> dict:
        out = {"vars": [v for v in args.vars.split(",") if v.strip()] if args.vars else None}
        if not args.cycle and (args.remote != "auto" or args.fhours != "0"):
            raise ParameterError(("remote", "fhours"), "go with {cycle}")
        if args.cycle:
            if args.inputs:
                raise ParameterError(("inputs", "cycle"), "give input files or a cycle, not both")
            out["remote_inputs"] = cls.remote_inputs(None, cycle=args.cycle, fhours=args.fhours,
                                                     remote=args.remote, resolution=args.resolution)
        return out

    @classmethod
    def remote_inputs(cls, start=None, end=None, remote: str | None = "auto", cycle: str | None = None,
                      fhours="0", resolution: str = "0p25", now=None, complete: bool = True, **_):
        """The files of the cycles in [start, end] (every 6 h), or of ``cycle`` (``latest``: the newest
        cycle whose files are published, decided by probing ``.idx`` when resolved)."""
        from geopipe.sources.inputs import RemoteInputs, parse_range

        hours = parse_fhours(fhours) if isinstance(fhours, str) else [int(h) for h in fhours]
        remote = remote or "auto"
        if cycle == "latest":
            probes = [gfs_remote.cycle_urls(c, hours[:1], remote, resolution, now)[0][0] + ".idx"
                      for c in gfs_remote.candidates(now)]

            def resolve() -> list[str]:
                init = gfs_remote.latest_cycle(hours, remote, resolution, now, complete)
                return gfs_remote.cycle_urls(init, hours, remote, resolution, now)[0]

            return RemoteInputs("gfs", remote, probes=probes, resolver=resolve,
                                storage_options=gfs_remote.cycle_urls(gfs_remote.candidates(now)[0], hours[:1], remote,
                                                                      resolution, now)[1])
        if cycle:
            cycles = [pd.Timestamp(cycle)]
        else:
            first, last = parse_range(start, end)
            cycles = list(pd.date_range(first.ceil("6h"), last, freq="6h"))
        groups, options = [], {}
        for init in cycles:
            urls, options = gfs_remote.cycle_urls(init, hours, remote, resolution, now)
            groups += [[u] for u in urls]
        return RemoteInputs("gfs", remote, groups=groups, storage_options=options)


def _default_vars() -> list[str]:
    from geopipe.catalog import load

    return list(getattr(load().source("gfs"), "default_vars", None) or ["pwat", "prmsl", "u10", "v10", "absv:850"])


def _check_store(ds: xr.Dataset, store: str, storage_options: dict | None) -> None:
    """Refuse, naming the file, what the store could only take by mixing: another grid or step type."""
    if not _store.exists(store, storage_options=storage_options):
        return
    held = _store.open_store(store, storage_options=storage_options)
    source = ds.encoding.get("source", "?")
    for axis in ("latitude", "longitude"):
        if axis in held.coords and (held[axis].shape != ds[axis].shape
                                    or not np.allclose(held[axis].values, ds[axis].values)):
            raise InputError(source, f"its {axis} ({ds.sizes[axis]} points) differs from the store's {store} "
                                     f"({held.sizes[axis]} points): a different grid")
    for name, var in ds.data_vars.items():
        stored = held[name].attrs.get("GRIB_stepType") if name in held else None
        if stored and stored != var.attrs.get("GRIB_stepType"):
            raise InputError(source, f"{name} is {var.attrs.get('GRIB_stepType')} here but {stored} in {store}; "
                                     "geopipe never mixes step types in one variable")
