"""OMNI 1-minute ingest: every bundled real sample (CDAWeb, SWVO, ML-repo CSV) against a direct pandas read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from geopipe.cli import main
from geopipe.errors import InputError
from geopipe.ingest import ingest
from geopipe.sources import omni

CDAWEB = "omni_cdaweb_csv/OMNI_HRO2_1MIN.csv"
SWVO = "omni_swvo_csv/OMNI_HIGH_RES_1min_202405.csv"
ML = ["ml_omni1min_storms/2015_out.csv", "ml_omni1min_storms/2018_out.csv", "ml_omni1min_storms/2024_out_2.csv"]
# what a user reading each file with pandas would call each column, and its OMNI fill value
DIRECT = {
    CDAWEB: {"BX__GSE_nT": ("bx_gse", 9999.99), "BY__GSE_nT": ("by_gse", 9999.99), "BZ__GSE_nT": ("bz_gse", 9999.99),
             "FLOW_SPEED__GSE_km/s": ("speed", 99999.9), "PROTON_DENSITY_n/cc": ("proton_density", 999.99),
             "FLOW_PRESSURE_nPa": ("pdyn", 99.99), "1-M_AE_nT": ("ae", 99999), "SYM/H_INDEX_nT": ("sym_h", 99999)},
    SWVO: {"bavg": ("b_mag", None), "bx_gsm": ("bx_gse", None), "by_gsm": ("by_gsm", None), "bz_gsm": ("bz_gsm", None),
           "speed": ("speed", None), "proton_density": ("proton_density", None), "temperature": ("temperature", None),
           "pdyn": ("pdyn", None), "sym-h": ("sym_h", None)},
}
ML_DIRECT = {"Total_IMF": ("b_mag", None), "BZ(GSM)": ("bz_gsm", None), "Velocity": ("speed", None),
             "Proton_density": ("proton_density", None), "Proton_temperature": ("temperature", None),
             "Flow_pressure": ("pdyn", None), "Ae_index": ("ae", None), "SYM_H": ("sym_h", None)}


def direct(path: Path, name: str) -> pd.DataFrame:
    df = pd.read_csv(path, comment="#")
    if "Year" in df:
        index = pd.to_datetime(df.Year.astype(str) + "-01-01") + pd.to_timedelta((df.Day - 1) * 1440 + df.Hour * 60 + df.Minute, "min")
        columns = ML_DIRECT
    else:
        index = pd.to_datetime(df.iloc[:, 0]).dt.tz_localize(None)
        columns = DIRECT[name]
    out = pd.DataFrame({var: df[col].where(df[col] != fill) if fill else df[col] for col, (var, fill) in columns.items()})
    out.index = pd.DatetimeIndex(index, name="time")
    return out


@pytest.mark.parametrize("name", [CDAWEB, SWVO, *ML])
def test_each_sample_equals_a_direct_pandas_read(sample_dir, name):
    path = sample_dir / "isgi" / name
    got = omni.read_frame(str(path), path.read_bytes())
    expected = direct(path, name)
    assert list(got.columns) == list(expected.columns) and len(got) == len(expected)
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy(float))
    assert (got.index == expected.index).all()


def test_cdaweb_fills_and_the_gannon_storm(sample_dir):
    path = sample_dir / "isgi" / CDAWEB
    got = omni.read_frame(str(path), path.read_bytes())
    assert len(got) == 5641 and got.index[-1] == pd.Timestamp("2024-05-13 04:00")  # the trailing # lines are not rows
    assert got.bz_gse.isna().sum() == 384 and got.speed.isna().sum() == 2334
    assert got.sym_h.min() == -518 and got.sym_h.idxmin() == pd.Timestamp("2024-05-11 02:14")


def test_every_sample_into_one_store(sample_dir, tmp_path):
    store = str(tmp_path / "omni.zarr")
    files = [str(sample_dir / "isgi" / n) for n in (CDAWEB, SWVO, *ML)]
    ingest("omni", files, store, strict=True)
    ds = xr.open_zarr(store, consolidated=False)
    index = ds.indexes["time"]
    assert index.is_unique and index.is_monotonic_increasing
    expected_times = pd.DatetimeIndex(sorted(set().union(*(direct(Path(f), n).index for f, n in zip(files, (CDAWEB, SWVO, *ML))))))
    assert (index == expected_times).all()
    assert ds.bz_gse.attrs["units"] == "nT" and ds.speed.attrs["units"] == "km s-1"
    assert ds.by_gsm.dtype == np.float32
    # GSE from CDAWeb and GSM from SWVO sit side by side; SYM-H agrees everywhere
    storm = ds.sel(time="2024-05-11T02:14")
    assert float(storm.sym_h) == -518 and np.isfinite(float(storm.bz_gse)) and np.isfinite(float(storm.bz_gsm))
    swvo = direct(sample_dir / "isgi" / SWVO, SWVO)
    np.testing.assert_array_equal(ds.sym_h.sel(time=swvo.index).values, swvo["sym_h"].to_numpy(np.float32))
    again = ingest("omni", files, store, strict=True)
    assert again.written == 0 and again.skipped == sum(len(direct(Path(f), n)) for f, n in zip(files, (CDAWEB, SWVO, *ML)))


def _copy(sample_dir, tmp_path, edit) -> Path:
    lines = (sample_dir / "isgi" / ML[0]).read_text().splitlines(keepends=True)
    path = tmp_path / "bad.csv"
    path.write_text("".join(edit(lines)))
    return path


@pytest.mark.parametrize("edit, line, message", [
    (lambda ls: ls[:5] + [ls[5].replace("367.2", "3G7.2")] + ls[6:], 6, "is not a number"),
    (lambda ls: ls[:5] + [ls[5].rstrip("\n") + ",7\n"] + ls[6:], 6, "fields, the header has 13"),
    (lambda ls: ls[:5] + [ls[5].rsplit(",", 1)[0] + "\n"] + ls[6:], 6, "fields, the header has 13"),
    (lambda ls: ls[:5] + [",".join(ls[4].split(",")[:6] + ["999.9"] + ls[4].split(",")[7:])] + ls[5:], 6,
     "same time .* different values"),
])
def test_malformed_rows_name_file_and_line(sample_dir, tmp_path, edit, line, message):
    path = _copy(sample_dir, tmp_path, edit)
    with pytest.raises(InputError, match=message) as err:
        omni.read_frame(str(path), path.read_bytes())
    assert err.value.path == str(path) and err.value.line == line


def test_cli_ingest_and_one_line_error(sample_dir, tmp_path, capsys):
    store = tmp_path / "o.zarr"
    assert main(["ingest", "omni", str(sample_dir / "isgi" / CDAWEB), "--store", str(store)]) == 0
    assert xr.open_zarr(store, consolidated=False).sizes["time"] == 5641
    bad = _copy(sample_dir, tmp_path, lambda ls: ["Foo,Bar\n", "1,2\n"])
    assert main(["ingest", "omni", str(bad), "--store", str(tmp_path / "p.zarr")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(bad) in err and "no time column" in err
