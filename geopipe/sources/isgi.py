"""Geomagnetic indices from WDC Kyoto / ISGI and GFZ into one 1-minute index store.

Inputs (the format is recognised from the content; ``.bz2``/``.gz``/``.xz`` are read as they are):

* ASY/SYM in IAGA-2002, as Kyoto and ISGI serve them (:mod:`geopipe.sources.iaga2002`);
  Kyoto's yearly files hold 366 days, so a non-leap year runs on to 1 January of the next
* ASY/SYM in the WDC 400-byte record format, hourly Dst in WDC format and Kp in GFZ WDC
  format (:mod:`geopipe.sources.wdc`)

The store (catalog product ``isgi``) has one dimension ``time`` and six float32 variables:
``sym_h, asy_h, sym_d, asy_d, dst`` (nT) and ``kp`` (1).  Every value sits on its own
timestamp and NaN fills the rest:

* the 1-minute indices at each minute (the minute's value, as Kyoto labels it)
* ``dst`` at hh:00 -- the hourly value of the UT hour hh:00-hh+1:00 (Kyoto labels it "hour hh+1")
* ``kp`` at 00, 03, ..., 21 UT -- the value of the 3-hour interval that starts there

The time axis is the sorted union of the timestamps the inputs carry: every minute where a
1-minute file was ingested, only the hourly / 3-hourly stamps where only Dst or Kp were.
Use ``ds.dst.dropna("time")`` for the hourly series.  Gaps and fill values (99999, 9999)
stay NaN; a time already stored is never duplicated (the overlapping day of two yearly
files is written once); a later file fills the store's NaNs but does not overwrite its
values (see :func:`geopipe.store.merge`), so re-runs write nothing.
"""

from __future__ import annotations


from geopipe.errors import InputError
from geopipe.lazy import lazy_import
from geopipe.sources import gfz, iaga2002, kyoto_dst, remote_fetch, wdc
from geopipe.sources.timeseries import SeriesReader, frame_to_dataset

pd = lazy_import("pandas")
xr = lazy_import("xarray")

VARIABLES = ("sym_h", "asy_h", "sym_d", "asy_d", "dst", "kp")
_KYOTO = "WDC for Geomagnetism, Kyoto"
ATTRS = {
    "sym_h": {"long_name": "SYM-H index (longitudinally symmetric disturbance, H component)", "units": "nT",
              "source": _KYOTO, "references": "doi:10.14989/267216"},
    "asy_h": {"long_name": "ASY-H index (asymmetric disturbance, H component)", "units": "nT",
              "source": _KYOTO, "references": "doi:10.14989/267216"},
    "sym_d": {"long_name": "SYM-D index (longitudinally symmetric disturbance, D component)", "units": "nT",
              "source": _KYOTO, "references": "doi:10.14989/267216"},
    "asy_d": {"long_name": "ASY-D index (asymmetric disturbance, D component)", "units": "nT",
              "source": _KYOTO, "references": "doi:10.14989/267216"},
    "dst": {"long_name": "Dst index (hourly)", "units": "nT", "source": _KYOTO, "references": "doi:10.17593/14515-74000",
            "cell_methods": "time: mean (interval: 1 hour)",
            "comment": "hourly value of the UT hour starting at this timestamp; NaN at other minutes"},
    "kp": {"long_name": "Kp index (planetary 3-hour range index)", "units": "1",
           "source": "GFZ German Research Centre for Geosciences", "references": "doi:10.5880/Kp.0001",
           "cell_methods": "time: maximum (interval: 3 hours)",
           "comment": "value of the 3-hour UT interval starting at this timestamp, in thirds (2- = 1.667); NaN elsewhere"},
}
GLOBAL_ATTRS = {
    "title": "Geomagnetic indices SYM-H, ASY-H, SYM-D, ASY-D, Dst (WDC Kyoto) and Kp (GFZ)",
    "license": "WDC Kyoto indices: free for research, no commercial use; Kp: CC BY 4.0 (GFZ)",
    "references": "ASY/SYM doi:10.14989/267216; Dst doi:10.17593/14515-74000; Kp doi:10.5880/Kp.0001",
}
#: IAGA-2002 column name -> store variable
IAGA_NAMES = {"SYM-H": "sym_h", "ASY-H": "asy_h", "SYM-D": "sym_d", "ASY-D": "asy_d",
              "SYMH": "sym_h", "ASYH": "asy_h", "SYMD": "sym_d", "ASYD": "asy_d", "DST": "dst", "KP": "kp"}


def read_frame(path: str, raw: bytes) -> tuple[pd.DataFrame, str]:
    """One index file -> (time-indexed frame with store variable names, format name)."""
    if iaga2002.looks_like(raw):
        parsed = iaga2002.read(path, raw)
        known = {c: IAGA_NAMES[c.upper()] for c in parsed.data.columns if c.upper() in IAGA_NAMES}
        if not known:
            code = parsed.header.get("IAGA CODE", "?")
            raise InputError(path, f"IAGA-2002 file of {code} reports {', '.join(parsed.data.columns)}: "
                                   "no ASY/SYM/Dst/Kp index column (observatory data is not an index)")
        return parsed.data[list(known)].rename(columns=known), "iaga2002"
    if kyoto_dst.looks_like(raw):
        return kyoto_dst.read(path, raw), "kyoto-dst-html"
    if gfz.looks_like_json(raw):
        return gfz.read_json(path, raw), "gfz-kp-json"
    if gfz.looks_like_text(raw):
        return gfz.read_text(path, raw), "gfz-kp-text"
    kind = wdc.looks_like(raw)
    if kind == "asysym":
        return wdc.read_asysym(path, raw), "wdc-asysym"
    if kind == "dst":
        return wdc.read_dst(path, raw), "wdc-dst"
    if kind == "kp":
        return wdc.read_kp(path, raw), "wdc-kp"
    raise InputError(path, "not a recognised index format (IAGA-2002, WDC ASY/SYM, WDC Dst or GFZ WDC Kp)", line=1)


class ISGIReader(SeriesReader):
    """WDC Kyoto / ISGI geomagnetic indices (SYM-H, ASY-H, Dst, Kp)."""

    name = "isgi"
    dim = "time"
    suffixes = (".dat", ".txt", ".wdc", ".request", ".iaga", ".iaga2002", ".dst", ".kp", ".sym", ".asy")

    def open_dataset(self, path: str) -> xr.Dataset:
        raw, record = remote_fetch.read_bytes(path, self.options.get("remote_options"))
        frame, fmt = read_frame(path, raw)
        for name in VARIABLES:  # one fixed schema, whatever the file holds
            if name not in frame:
                frame[name] = float("nan")
        ds = frame_to_dataset(frame[list(VARIABLES)], ATTRS, GLOBAL_ATTRS)
        ds.attrs["_geopipe_record"] = record
        ds.attrs["geopipe_input_format"] = fmt
        return ds

    def write(self, ds: xr.Dataset, store: str, sources, storage_options: dict | None = None):
        ds.attrs.pop("geopipe_input_format", None)
        return super().write(ds, store, sources, storage_options)

    @classmethod
    def remote_inputs(cls, start, end=None, remote: str | None = None, index: str = "Dst", **options):
        """ISGI/Kyoto/GFZ requests; ``index`` is the ISGI web service's index (Dst, Kp, AE, ...)."""
        return super().remote_inputs(start, end, remote, index=index, **options)

    @classmethod
    def add_arguments(cls, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--index", default="Dst", help="with --remote isgi: the ISGI web service index "
                                                           "(Dst, Kp, AE, aa, am, ...; default Dst)")

    @classmethod
    def options(cls, args) -> dict:
        from geopipe.sources import inputs

        return inputs.request(args, cls.name, index=args.index)
