"""GRIB edition 1 through eccodes: cfgrib's sample files ingest with eccodes' values and the GRIB2 layout."""

from __future__ import annotations

import eccodes
import numpy as np
import pandas as pd
import pytest

from geopipe import store
from geopipe.errors import InputError
from geopipe.ingest import ingest
from geopipe.sources import grib

GRIB1 = ("regular_ll_sfc", "regular_gg_sfc", "fields_with_missing_values")


def _eccodes_messages(path) -> list[dict]:
    """Every message's values (NaN where missing) and keys, straight from eccodes."""
    out = []
    with open(path, "rb") as fh:
        while (h := eccodes.codes_grib_new_from_file(fh)) is not None:
            try:
                values = eccodes.codes_get_values(h)
                if eccodes.codes_get(h, "bitmapPresent"):
                    values = np.where(values == eccodes.codes_get(h, "missingValue"), np.nan, values)
                keys = {k: eccodes.codes_get(h, k) for k in ("Nj", "Ni", "cfVarName", "validityDate", "validityTime",
                                                            "dataDate", "dataTime", "edition")}
                out.append({"values": values.reshape(keys["Nj"], keys["Ni"]).astype("f4"), **keys,
                            "grib2": _as_grib2(h)})
            finally:
                eccodes.codes_release(h)
    return out


def _as_grib2(h) -> bytes:
    clone = eccodes.codes_clone(h)
    try:
        eccodes.codes_set(clone, "edition", 2)
        return eccodes.codes_get_message(clone)
    finally:
        eccodes.codes_release(clone)


def _when(date: int, time: int) -> np.datetime64:
    return np.datetime64(pd.Timestamp(f"{date}") + pd.Timedelta(hours=time // 100, minutes=time % 100), "ns")


@pytest.mark.parametrize("name", GRIB1)
def test_grib1_values_equal_eccodes_and_the_store_is_laid_out_as_for_grib2(name, sample_dir, root):
    path = sample_dir / "grib1" / f"{name}.grib"
    messages = _eccodes_messages(path)
    assert {m["edition"] for m in messages} == {1}
    ingest("gfs", [str(path)], "g1.zarr", strict=True)
    ds = store.open_store("g1.zarr")
    var = messages[0]["cfVarName"]
    assert list(ds.data_vars) == [var] and ds[var].dtype == np.float32
    np.testing.assert_array_equal(ds[var].values, np.stack([m["values"] for m in messages]))
    assert list(ds["time"].values) == [_when(m["validityDate"], m["validityTime"]) for m in messages]
    assert ds[var].attrs["GRIB_edition"] == 1 and ds[var].attrs["GRIB_table2Version"] == 128
    # the same fields re-encoded as GRIB2 by eccodes make the same store: names, dims, coordinates, values
    twin = root / f"{name}.grib2"
    twin.write_bytes(b"".join(m["grib2"] for m in messages))
    ingest("gfs", [str(twin)], "g2.zarr", strict=True)
    ds2 = store.open_store("g2.zarr")
    assert list(ds2.data_vars) == [var] and dict(ds2.sizes) == dict(ds.sizes)
    for c in ("time", "latitude", "longitude", "init_time", "step"):
        np.testing.assert_array_equal(ds2[c].values, ds[c].values)
    np.testing.assert_array_equal(ds2[var].values, ds[var].values)
    same = ("long_name", "units", "standard_name", "GRIB_shortName", "GRIB_stepType", "GRIB_gridType")
    assert {k: ds2[var].attrs.get(k) for k in same} == {k: ds[var].attrs.get(k) for k in same}


def test_grib1_keys_of_ncep_seasonal_messages(sample_dir):
    """P1/P2 (a two-octet forecast time) and timeRangeIndicator 10 give eccodes' validity times."""
    path = sample_dir / "grib1" / "ncep-seasonal-monthly.grib"
    data = path.read_bytes()
    spans = grib.scan_messages(data, str(path))
    assert len(spans) == 372  # 186-byte messages, each padded with zeros to 240 bytes
    assert all(not data[a + n:b].strip(b"\0") for (a, n), (b, _) in zip(spans, spans[1:]))
    ref = _eccodes_messages(path)
    for i, (offset, length) in enumerate(spans[::37]):
        field = grib.read_field(data[offset:offset + length], i, 0)
        m = ref[spans.index((offset, length))]
        assert field.valid == _when(m["validityDate"], m["validityTime"])
        assert field.init == _when(m["dataDate"], m["dataTime"])
        assert field.concept["centre"] == "kwbc" and field.cfvar == m["cfVarName"]
        np.testing.assert_array_equal(grib.decode_values(data[offset:offset + length]), m["values"])


def test_one_store_refuses_a_lagged_ensemble_and_mixed_level_types_are_chosen_by_level(sample_dir, root):
    with pytest.raises(InputError, match=r"t2m: messages 1 and 5 are both instant fields valid at 2021-10-01"):
        ingest("gfs", [str(sample_dir / "grib1" / "ncep-seasonal-monthly.grib")], "s.zarr", strict=True)
    assert not store.exists("s.zarr")
    mixed = sample_dir / "grib1" / "t_on_different_level_types.grib"
    ingest("gfs", [str(mixed)], "t.zarr", strict=True, vars=["t:100"])  # the GRIB1 message: 100 hPa
    ds = store.open_store("t.zarr")
    assert list(ds.data_vars) == ["t100"] and ds["t100"].attrs["GRIB_level"] == 100.0
    np.testing.assert_array_equal(ds["t100"].values[0], _eccodes_messages(mixed)[0]["values"])


def test_grib1_messages_cut_short_or_over_8_mb_are_named(sample_dir):
    data = (sample_dir / "grib1" / "regular_ll_sfc.grib").read_bytes()
    with pytest.raises(InputError, match="truncated: the GRIB message at byte 0 needs 2772 bytes"):
        grib.scan_messages(data[:2000], "cut.grib")
    large = bytearray(data)
    large[4] |= 0x80
    with pytest.raises(InputError, match="GRIB1 message at byte 0 is over 8 MB"):
        grib.scan_messages(bytes(large), "big.grib")
    with pytest.raises(InputError, match="declares a length of 0 bytes"):
        grib.scan_messages(data + data[:4] + b"\0\0\0\x01" + data[8:], "zero.grib")
