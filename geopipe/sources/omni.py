"""NASA OMNI 1-minute solar wind at the bow-shock nose, from three CSV layouts, into one store.

(SPDF's HRO ASCII is read by :mod:`geopipe.sources.omni_hro`, SWPC's real-time JSON by
:mod:`geopipe.sources.swpc`; both land in the same variables.)

Layouts (recognised from the column line; ``.bz2``/``.gz`` read as they are):

* **CDAWeb CSV export** (``OMNI_HRO2_1MIN`` etc.): ``#`` lines before *and* after the table,
  ``EPOCH_TIME_yyyy-mm-ddThh:mm:ss.sssZ,BX__GSE_nT,...``; OMNI fill values in the cells
* **OMNIWeb listing re-exported as CSV** (GFZ SWVO): ``timestamp,bavg,bx_gsm,...``; fills are empty cells
* **ML-repo extract**: ``Year,Day,Hour,Minute,Total_IMF,BZ(GSM),...`` (``Day`` = day of year)

Store variables (float32, dim ``time``, 1 minute; only those a file has are written, the
rest stay NaN at its times):

=================  =======  ==================================================
``b_mag``          nT       field magnitude average <|B|>
``bx_gse``         nT       Bx (the x axis is the same in GSE and GSM)
``by_gse, bz_gse`` nT       By, Bz in GSE (CDAWeb HRO/HRO2 export BY/BZ in GSE)
``by_gsm, bz_gsm`` nT       By, Bz in GSM (OMNIWeb listings)
``speed``          km s-1   flow speed
``proton_density`` cm-3
``temperature``    K        proton temperature
``pdyn``           nPa      flow pressure 2e-6 Np Vp^2
``ae``, ``sym_h``  nT       Kyoto AE and SYM-H carried in OMNI (Kyoto's terms apply)
=================  =======  ==================================================

OMNI fill values (9999.99 for B, 99999.9 speed, 999.99 density, 9999999. temperature,
99.99 pressure, 99999 indices) and empty cells become NaN.  Columns not listed are dropped.
Several files may share a store: a later file fills the store's NaNs, never overwrites
(:func:`geopipe.store.merge`).
"""

from __future__ import annotations

import io

import numpy as np

from geopipe.errors import InputError
from geopipe.lazy import lazy_import
from geopipe.sources.timeseries import Lines, SeriesReader, check_numeric, check_times, frame_to_dataset

pd = lazy_import("pandas")
xr = lazy_import("xarray")

ATTRS = {
    "b_mag": {"long_name": "IMF magnitude, average of |B|", "units": "nT"},
    "bx_gse": {"long_name": "IMF Bx (GSE = GSM)", "units": "nT"},
    "by_gse": {"long_name": "IMF By, GSE", "units": "nT"},
    "bz_gse": {"long_name": "IMF Bz, GSE", "units": "nT"},
    "by_gsm": {"long_name": "IMF By, GSM", "units": "nT"},
    "bz_gsm": {"long_name": "IMF Bz, GSM", "units": "nT"},
    "speed": {"long_name": "solar wind flow speed", "units": "km s-1"},
    "proton_density": {"long_name": "solar wind proton number density", "units": "cm-3"},
    "temperature": {"long_name": "solar wind proton temperature", "units": "K"},
    "pdyn": {"long_name": "solar wind flow (dynamic) pressure", "units": "nPa"},
    "ae": {"long_name": "AE index (WDC Kyoto, carried in OMNI)", "units": "nT"},
    "sym_h": {"long_name": "SYM-H index (WDC Kyoto, carried in OMNI)", "units": "nT"},
}
FILL = {"b_mag": 9999.99, "bx_gse": 9999.99, "by_gse": 9999.99, "bz_gse": 9999.99, "by_gsm": 9999.99,
        "bz_gsm": 9999.99, "speed": 99999.9, "proton_density": 999.99, "temperature": 9999999.0,
        "pdyn": 99.99, "ae": 99999.0, "sym_h": 99999.0}
#: column label (lower case) -> variable, for all three layouts
NAMES = {
    "bx__gse_nt": "bx_gse", "by__gse_nt": "by_gse", "bz__gse_nt": "bz_gse", "by__gsm_nt": "by_gsm",
    "bz__gsm_nt": "bz_gsm", "flow_speed__gse_km/s": "speed", "proton_density_n/cc": "proton_density",
    "temperature_k": "temperature", "flow_pressure_npa": "pdyn", "1-m_ae_nt": "ae", "sym/h_index_nt": "sym_h",
    "bavg": "b_mag", "bx_gsm": "bx_gse", "by_gsm": "by_gsm", "bz_gsm": "bz_gsm", "speed": "speed",
    "proton_density": "proton_density", "temperature": "temperature", "pdyn": "pdyn", "sym-h": "sym_h",
    "total_imf": "b_mag", "bz(gsm)": "bz_gsm", "velocity": "speed", "proton_temperature": "temperature",
    "flow_pressure": "pdyn", "ae_index": "ae", "sym_h": "sym_h",
}
GLOBAL_ATTRS = {"title": "OMNI 1-minute solar wind at the bow-shock nose (NASA GSFC SPDF)",
                "source": "NASA/GSFC Space Physics Data Facility OMNIWeb / CDAWeb", "references": "doi:10.48322/45bb-8792",
                "comment": "sym_h and ae are WDC Kyoto indices carried in OMNI; Kyoto's terms of use apply"}


def _times(df: pd.DataFrame, path: str, line_of) -> tuple[pd.DatetimeIndex, list[str]]:
    """The time index of a frame and the columns that made it."""
    cols = {c.lower(): c for c in df.columns}
    if {"year", "day", "hour", "minute"} <= set(cols):
        used = [cols[k] for k in ("year", "day", "hour", "minute")]
        parts = check_numeric(df, used, path, line_of)
        y, d, h, m = (parts[c].to_numpy() for c in used)
        bad = np.flatnonzero(~np.isfinite(y + d + h + m) | (d < 1) | (d > 366) | (h > 23) | (m > 59))
        if len(bad):
            raise InputError(path, "bad Year/Day/Hour/Minute", line=line_of(int(bad[0])))
        jan1 = pd.to_datetime(pd.DataFrame({"year": y, "month": 1, "day": 1}))
        times = jan1 + pd.to_timedelta((d - 1) * 1440 + h * 60 + m, unit="min")
        return pd.DatetimeIndex(times, name="time"), used
    first = df.columns[0]
    if not (first.lower().startswith("epoch") or first.lower() in ("timestamp", "time", "datetime")):
        raise InputError(path, f"no time column: the first column is {first!r}", line=line_of(-1))
    times = pd.to_datetime(df[first].astype("string").str.strip(), format="ISO8601", errors="coerce", utc=True)
    bad = np.flatnonzero(times.isna().to_numpy())
    if len(bad):
        raise InputError(path, f"bad time {df[first].iloc[bad[0]]!r}", line=line_of(int(bad[0])))
    return pd.DatetimeIndex(times.dt.tz_convert(None), name="time"), [first]


def read_frame(path: str, raw: bytes) -> pd.DataFrame:
    """One OMNI CSV -> time-indexed float64 frame of store variables (fills as NaN)."""
    lines = Lines(raw, comment=b"#")
    if len(lines) < 2:
        raise InputError(path, "no table: fewer than two non-comment lines")
    header = lines.text(0)
    if "," not in header:
        raise InputError(path, f"not an OMNI CSV: the column line {header[:60]!r} has no commas", line=lines.number(0))
    lines.check_fields(path, header.count(",") + 1, first=1)
    df = pd.read_csv(io.BytesIO(raw), comment="#", dtype=str, keep_default_na=False, skip_blank_lines=True)
    line_of = lambda i: lines.number(i + 1)  # noqa: E731  (row i of the table is non-comment line i + 1)
    times, used = _times(df, path, line_of)
    check_times(times, path, line_of)
    known = {c: NAMES[c.strip().lower()] for c in df.columns if c not in used and c.strip().lower() in NAMES}
    if not known:
        raise InputError(path, f"no OMNI variable among the columns {', '.join(df.columns)}", line=lines.number(0))
    values = check_numeric(df, list(known), path, line_of).rename(columns=known)
    for name in values.columns:
        values.loc[values[name] >= FILL[name] * (1 - 1e-9), name] = np.nan
    values.index = times
    return values


class OMNIReader(SeriesReader):
    """NASA OMNI 1-minute solar wind (CDAWeb CSV, OMNIWeb/SWVO CSV, ML-repo CSV)."""

    name = "omni"
    dim = "time"
    suffixes = (".csv", ".asc", ".json")

    def open_dataset(self, path: str) -> xr.Dataset:
        from geopipe.sources import omni_hro, remote_fetch, swpc

        raw, record = remote_fetch.read_bytes(path, self.options.get("remote_options"))
        if omni_hro.looks_like(raw):  # SPDF's HRO ASCII (1-min, 5-min)
            frame = omni_hro.to_store(omni_hro.read(path, raw))
        elif swpc.looks_like(raw):  # SWPC real-time JSON (at L1)
            frame = swpc.read(path, raw)
        else:
            frame = read_frame(path, raw)
        ds = frame_to_dataset(frame, ATTRS, GLOBAL_ATTRS)
        ds.attrs["_geopipe_record"] = record
        return ds
