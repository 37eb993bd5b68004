"""The generated sample archive: real formats, planted truth, determinism (geopipe.sample.generate)."""

from __future__ import annotations

import argparse
import bz2
import csv
import datetime as dt
import hashlib
import json
import re

import eccodes
import netCDF4
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from geopipe.errors import GeopipeError
from geopipe.geometry import coriolis, distance_deg
from geopipe.sample.generate import generate

RES = 2.0
IDX_LINE = re.compile(r"^\d+(\.\d+)?:\d+:d=\d{10}:[^:]+:[^:]+:[^:]+:$")  # n:offset:d=date:VAR:level:fcst:
FIELDS = {"PRMSL": ("prmsl", "meanSea", 0), "ABSV": ("absv", "isobaricInhPa", 850),
          "UGRD": ("10u", "heightAboveGround", 10), "VGRD": ("10v", "heightAboveGround", 10),
          "PWAT": ("pwat", "atmosphereSingleLayer", 0)}


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    return out, generate(out, seed=0, days=2, res=RES, fhours=(0, 6), goes_times=2)


def _messages(data: bytes) -> list[dict]:
    """Keys and values of every message in a GRIB2 byte string."""
    out, pos = [], 0
    while (start := data.find(b"GRIB", pos)) >= 0:
        length = int.from_bytes(data[start + 8:start + 16], "big")
        h = eccodes.codes_new_from_message(data[start:start + length])
        try:
            keys = {k: eccodes.codes_get(h, k) for k in ("shortName", "typeOfLevel", "level", "units", "edition",
                                                          "centre", "gridType", "Ni", "Nj", "dataDate", "dataTime",
                                                          "forecastTime")}
            keys["values"] = eccodes.codes_get_values(h).reshape(keys["Nj"], keys["Ni"])
        finally:
            eccodes.codes_release(h)
        out.append(keys)
        pos = start + length
    return out


def _gfs(out, time: str, fhour: int = 0) -> dict:
    t = pd.Timestamp(time)
    path = out / "gfs" / f"gfs.{t:%Y%m%d}" / f"{t:%H}" / "atmos" / f"gfs.t{t:%H}z.pgrb2.2p00.f{fhour:03d}"
    return {m["shortName"]: m["values"] for m in _messages(path.read_bytes())}


def test_gfs_messages_decode_with_the_keys_of_the_real_ncep_file(archive, sample_dir):
    out, manifest = archive
    real = {}
    eccodes.codes_grib_multi_support_on()
    try:
        with open(sample_dir / "gfs" / "gfs.t12z.pgrbf120.2p5deg.grib2", "rb") as fh:
            while (h := eccodes.codes_grib_new_from_file(fh)) is not None:
                key = tuple(eccodes.codes_get(h, k) for k in ("shortName", "typeOfLevel", "level"))
                real.setdefault(key, eccodes.codes_get(h, "units"))
                eccodes.codes_release(h)
    finally:
        eccodes.codes_grib_multi_support_off()
    gfs = sorted(e["path"] for e in manifest["files"] if e["kind"] == "gfs")
    assert len(gfs) == 2 * 4 * 2  # days x cycles x fhours
    assert gfs[0] == "gfs/gfs.20240901/00/atmos/gfs.t00z.pgrb2.2p00.f000"
    msgs = _messages((out / gfs[1]).read_bytes())  # the f006 of the 00z cycle
    assert [m["shortName"] for m in msgs] == ["prmsl", "absv", "10u", "10v", "pwat"]
    for m in msgs:
        assert real[(m["shortName"], m["typeOfLevel"], m["level"])] == m["units"]
        assert (m["edition"], m["centre"], m["gridType"]) == (2, "kwbc", "regular_ll")
        assert (m["Nj"], m["Ni"], m["dataDate"], m["dataTime"], m["forecastTime"]) == (91, 180, 20240901, 0, 6)
    # cfgrib sees the same variables, units and axes as in NCEP's files
    for level_type, name, units in (("meanSea", "prmsl", "Pa"), ("atmosphereSingleLayer", "pwat", "kg m**-2"),
                                    ("isobaricInhPa", "absv", "s**-1")):
        ds = xr.open_dataset(out / gfs[0], engine="cfgrib", backend_kwargs={"indexpath": "",
                             "filter_by_keys": {"typeOfLevel": level_type}})
        assert ds[name].attrs["units"] == units and ds[name].shape == (91, 180)
        assert ds.latitude.values[0] == 90.0 and ds.latitude.values[-1] == -90.0
        assert ds.longitude.values[-1] == 358.0


def test_idx_offsets_fetch_each_field_like_a_byte_range_reader(archive, sample_dir):
    out, manifest = archive
    for line in (sample_dir / "gfs" / "rap.t00z.awp130pgrbf00.grib2.idx").read_text().splitlines():
        assert IDX_LINE.match(line), line  # the pattern fits NCEP's own inventories
    for entry in (e for e in manifest["files"] if e["kind"] == "gfs"):
        data = (out / entry["path"]).read_bytes()
        lines = (out / (entry["path"] + ".idx")).read_text().splitlines()
        assert len(lines) == 5
        offsets = [int(line.split(":")[1]) for line in lines] + [len(data)]
        fhour = int(entry["path"][-3:])
        for k, line in enumerate(lines):
            assert IDX_LINE.match(line), line
            n, _off, date, var, _level, fcst, _ = line.split(":")
            (msg,) = _messages(data[offsets[k]:offsets[k + 1]])
            assert (msg["shortName"], msg["typeOfLevel"], msg["level"]) == FIELDS[var]
            assert date == f"d={msg['dataDate']}{msg['dataTime'] // 100:02d}"
            assert fcst == ("anl" if fhour == 0 else f"{fhour} hour fcst") and n == str(k + 1)
    pwat_line = (out / "gfs/gfs.20240901/06/atmos/gfs.t06z.pgrb2.2p00.f000.idx").read_text().splitlines()[4]
    assert pwat_line.endswith(":d=2024090106:PWAT:entire atmosphere (considered as a single layer):anl:")


def test_planted_vortices_are_prmsl_minima_with_cyclonic_vorticity(archive):
    out, manifest = archive
    lat = np.arange(90.0, -90.1, -RES)
    lon = np.arange(0.0, 360.0, RES)
    glat, glon = np.meshgrid(lat, lon, indexing="ij")
    checked = {"tropical": 0, "extratropical": 0}
    for storm in manifest["storms"]:
        for fix in storm["fixes"]:
            if fix["time"][11:13] not in ("00", "06", "12", "18") or fix["time"] >= "2024-09-03" \
                    or fix["time"] < "2024-09-01" or fix["dp_hpa"] < 15:
                continue
            f = _gfs(out, fix["time"])
            d = distance_deg(glat, glon, fix["lat"], fix["lon"])
            lowest = np.unravel_index(np.argmin(np.where(d < 6, f["prmsl"], np.inf)), d.shape)
            assert d[lowest] <= RES * 0.75, (storm["name"], fix)  # the grid point nearest the planted centre
            local = f["prmsl"][max(lowest[0] - 1, 0):lowest[0] + 2, (lowest[1] + np.arange(-1, 2)) % lon.size]
            assert f["prmsl"][lowest] == local.min()  # a true local minimum
            # the grid point is no deeper than the centre, and shallower by what the offset explains
            missed = fix["dp_hpa"] * (1 - np.exp(-0.5 * (d[lowest] / storm["radius_deg"]) ** 2))
            assert fix["pres_hpa"] - 0.5 < f["prmsl"][lowest] / 100 < fix["pres_hpa"] + missed + 1.0
            zeta = (f["absv"] - coriolis(lat)[:, None])[d < 2.5 + RES]
            sign = -1.0 if fix["lat"] < 0 else 1.0
            peak = (sign * zeta).max()
            if storm["class"] == "tropical":
                assert peak > 3.5e-5, (storm["name"], fix)
                boost = storm["pwat_boost"] * fix["dp_hpa"] / storm["dp_max_hpa"]  # planted moist core
                around = np.median(f["pwat"][(d > 7) & (d < 10)])
                assert f["pwat"][d < RES].max() - around > 0.5 * boost, (storm["name"], fix)
            else:
                assert peak > 1e-5 and abs(fix["lat"]) > 30
            checked[storm["class"]] += 1
    assert checked["tropical"] >= 10 and checked["extratropical"] >= 5, checked
    # winds turn the hemisphere's way: 10 m wind east of a NH storm blows north (counter-clockwise)
    tc = next(s for s in manifest["storms"] if s["basin"] == "NA")
    fix = next(x for x in tc["fixes"] if x["time"] == "2024-09-01T00:00:00")
    f = _gfs(out, fix["time"])
    row, col = round((90 - fix["lat"]) / RES), round(fix["lon"] / RES)
    assert f["10v"][row, (col + 2) % lon.size] > 5 and f["10v"][row, col - 2] < -5
    assert f["10u"][row - 2, col] < -5 and f["10u"][row + 2, col] > 5  # north of it: westward


def test_some_storms_cross_the_dateline_and_the_classes_are_planted(archive):
    _, manifest = archive
    classes = [s["class"] for s in manifest["storms"]]
    assert classes.count("tropical") >= 3 and classes.count("extratropical") >= 2
    crossing = [s["name"] for s in manifest["storms"] if s["class"] == "tropical" and s["fixes"]
                and np.ptp([x["lon"] for x in s["fixes"]]) < 90  # near 180, not the meridian
                and {x["lon"] < 180 for x in s["fixes"]} == {True, False}]
    assert len(crossing) >= 2, crossing
    for s in manifest["storms"]:
        lats = np.array([x["lat"] for x in s["fixes"]])
        if s["class"] == "tropical":
            assert (np.abs(lats) < 35).all()
        else:
            assert (np.abs(lats) > 25).all()


def test_ibtracs_csv_has_the_real_layout_and_the_manifest_positions(archive, sample_dir):
    out, manifest = archive
    with open(sample_dir / "ibtracs" / "ibtracs.ACTIVE.list.v04r01.csv", newline="") as fh:
        real_header, real_units = next(csv.reader(fh)), next(csv.reader(fh))
    with open(out / "ibtracs" / "ibtracs.ALL.list.v04r01.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == real_header and rows[1] == real_units and len(rows[0]) == 174
    assert all(len(r) == 174 for r in rows)
    df = pd.read_csv(out / "ibtracs" / "ibtracs.ALL.list.v04r01.csv", skiprows=[1], keep_default_na=False)
    assert set(df.TRACK_TYPE) == {"main"} and set(df.NATURE) == {"TS"}
    tropical = {s["name"]: s for s in manifest["storms"] if s["class"] == "tropical"}
    assert set(df.NAME) == set(tropical)  # extratropical cyclones are not best-tracked
    for name, rows_ in df.groupby("NAME"):
        fixes = tropical[name]["fixes"]
        assert len(rows_) == len(fixes) and rows_.SID.nunique() == 1
        assert list(rows_.ISO_TIME) == [x["time"].replace("T", " ") for x in fixes]
        assert np.allclose(rows_.LAT.astype(float), [x["lat"] for x in fixes], atol=0.051)
        dlon = (rows_.LON.astype(float).to_numpy() - [x["lon"] for x in fixes] + 180) % 360 - 180
        assert np.abs(dlon).max() < 0.051
        assert np.allclose(rows_.USA_PRES.astype(float), [x["pres_hpa"] for x in fixes], atol=0.51)
        sid = rows_.SID.iloc[0]
        assert re.fullmatch(r"\d{7}[NS]\d{5}", sid) and sid[7] == ("S" if fixes[0]["lat"] < 0 else "N")
        assert (rows_.USA_WIND.astype(int) >= 25).all() and (rows_.USA_WIND.astype(int) % 5 == 0).all()
    south = df[df.LAT.astype(float) < 0]
    assert (south.SEASON.astype(int) == 2025).all()  # SH seasons begin on 1 July the year before
    assert (df[df.LAT.astype(float) > 0].SEASON.astype(int) == 2024).all()


def test_goes_scenes_have_the_real_cmip_layout(archive, sample_dir):
    out, manifest = archive
    real = netCDF4.Dataset(sample_dir / "goes" / "goes16_abi_cmip_C13_M1_20230011800_subset24x24.nc")
    paths = sorted(e["path"] for e in manifest["files"] if e["kind"] == "goes")
    assert len(paths) == 4  # 2 scans x bands 8 and 13
    name = re.compile(r"goes/ABI-L2-CMIPC/2024/245/0[01]/OR_ABI-L2-CMIPC-M6C(08|13)_G16_s2024245\d{7}"
                      r"_e2024245\d{7}_c2024245\d{7}\.nc")
    assert all(name.fullmatch(p) for p in paths), paths
    with real, netCDF4.Dataset(out / paths[0]) as nc:
        for var in ("CMI", "DQF", "x", "y", "goes_imager_projection"):
            assert set(real[var].ncattrs()) <= set(nc[var].ncattrs()), var
            assert real[var].dtype == nc[var].dtype
        assert {k: real["goes_imager_projection"].getncattr(k) for k in real["goes_imager_projection"].ncattrs()} \
            == {k: nc["goes_imager_projection"].getncattr(k) for k in nc["goes_imager_projection"].ncattrs()}
        assert nc["CMI"].getncattr("_Unsigned") == "true" and nc["CMI"].dtype == np.int16
        assert nc.time_coverage_start == "2024-09-01T00:01:17.2Z"
        assert int(nc["band_id"][0]) == 8 and abs(float(nc["band_wavelength"][0]) - 6.19) < 1e-5
        bt = nc["CMI"][:]  # netCDF4 applies _Unsigned, scale, offset and the fill
        assert 200 < bt.min() and bt.max() < 260 and 225 < np.ma.median(bt) < 250
        nc.set_auto_maskandscale(False)
        assert nc["CMI"][:].max() <= 4095
    # colder, moist core over the tropical cyclone that sits in the sector at the first scan
    from geopipe.sources.goes import GOESReader

    ds = GOESReader().open_dataset(str(out / paths[0]))
    tc = next(s for s in manifest["storms"] if s["basin"] == "NA")
    fix = next(x for x in tc["fixes"] if x["time"] == "2024-09-01T00:00:00")
    d = distance_deg(ds.latitude.values, ds.longitude.values, fix["lat"], fix["lon"])
    bt = ds["CMI_C08"].values[0]
    assert np.nanmin(bt[d < 1.5]) < 215
    assert np.nanmedian(bt[d > 8]) > 235


def test_isgi_files_are_the_real_kyoto_files_with_their_attribution(archive, sample_dir):
    out, manifest = archive
    copies = [e for e in manifest["files"] if e["kind"] == "isgi" and e["path"].endswith(".bz2")]
    assert len(copies) == 4
    for e in copies:
        name = e["path"].rsplit("/", 1)[1]
        assert (out / e["path"]).read_bytes() == (sample_dir / "isgi" / "kyoto_asysym_iaga2002" / name).read_bytes()
    with bz2.open(out / copies[-1]["path"], "rt") as fh:
        head = fh.readline()
    assert "Format" in head and "IAGA-2002" in head
    note = (out / "isgi" / "SOURCES.md").read_text()
    assert "Kyoto" in note and "doi:10.14989/267216" in note and "commercial" in note


def test_manifest_lists_every_file_with_its_hash(archive):
    out, manifest = archive
    listed = {e["path"] for e in manifest["files"]}
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {"MANIFEST.json"}
    assert listed == on_disk
    for e in manifest["files"]:
        assert hashlib.sha256((out / e["path"]).read_bytes()).hexdigest() == e["sha256"]
    assert json.loads((out / "MANIFEST.json").read_text()) == manifest
    assert manifest["seed"] == 0 and manifest["parameters"]["res"] == RES


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path):
    def hashes(folder, seed):
        m = generate(folder, seed=seed, days=1, res=5.0, goes_times=1, n_tropical=3, n_extratropical=2)
        return {e["path"]: e["sha256"] for e in m["files"]}

    a, b, c = hashes(tmp_path / "a", 0), hashes(tmp_path / "b", 0), hashes(tmp_path / "c", 1)
    assert a == b
    assert (tmp_path / "a" / "MANIFEST.json").read_bytes() == (tmp_path / "b" / "MANIFEST.json").read_bytes()
    generated = [p for p in a if not p.startswith("isgi/")]
    assert all(a[p] != c[p] for p in generated if p in c)
    # regenerating into an earlier archive replaces it: no stale files remain
    hashes(tmp_path / "a", 1)
    assert {p.relative_to(tmp_path / "a").as_posix() for p in (tmp_path / "a").rglob("*") if p.is_file()} \
        == set(c) | {"MANIFEST.json"}


def test_bad_parameters_and_foreign_folders_are_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(GeopipeError, match="not empty and holds no MANIFEST"):
        generate(tmp_path, days=1, res=5.0)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    for kwargs, message in (({"res": 0.7}, "res must divide 180"), ({"days": 0}, "days must be"),
                            ({"start": "2024-09-01T03:00"}, "00 UTC"), ({"goes_times": ["2030-01-01"]}, "GOES times")):
        with pytest.raises(GeopipeError, match=message):
            generate(tmp_path / "new", **{"days": 1, "res": 5.0, **kwargs})


def test_cli_verb_generates_an_archive(tmp_path, capsys):
    from geopipe.cli import sample_cmd

    parser = argparse.ArgumentParser()
    sample_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["sample", "generate", "--out", str(tmp_path / "s"), "--days", "1", "--res", "5",
                              "--goes-times", "1", "--fhours", "0,3", "--json"])
    assert args.func(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["parameters"]["fhours"] == [0, 3] and printed["parameters"]["res"] == 5.0
    assert (tmp_path / "s" / "gfs/gfs.20240901/18/atmos/gfs.t18z.pgrb2.5p00.f003.idx").is_file()


def test_generated_files_ingest_with_the_goes_and_ibtracs_readers(archive, root):
    from geopipe.ingest import ingest
    from geopipe.store import open_store

    out, manifest = archive
    report = ingest("ibtracs", [str(out / "ibtracs")], "tracks")
    assert report.files == 1 and not report.quarantined
    tracks = open_store("tracks").load()
    fixes = [(s["name"], x) for s in manifest["storms"] if s["class"] == "tropical" for x in s["fixes"]]
    assert tracks.sizes["obs"] == len(fixes)
    first = tracks.isel(obs=int(np.argmin(tracks.time.values)))
    name, fix = min(fixes, key=lambda nf: nf[1]["time"])
    assert str(first["name"].values) == name and abs(float(first.lat) - fix["lat"]) < 0.051
    report = ingest("goes", [str(out / "goes")], "goes")
    assert report.files == 4 and not report.quarantined
    goes = open_store("goes")
    assert list(goes.time.values) == [np.datetime64(dt.datetime(2024, 9, 1, h, 1, 17, 200000)) for h in (0, 1)]
    assert 200 < float(goes.CMI_C13.min()) and float(goes.CMI_C13.max()) < 310


def test_generated_gfs_ingests_from_files_and_by_idx_byte_ranges_over_http(archive, root):
    from geopipe.ingest import ingest
    from geopipe.sample.server import FileServer
    from geopipe.store import open_store

    out, manifest = archive
    analyses = sorted(str(out / e["path"]) for e in manifest["files"] if e["path"].endswith(".f000"))
    report = ingest("gfs", analyses, "gfs")
    assert report.files == 8 and not report.quarantined
    ds = open_store("gfs")
    assert set(ds.data_vars) == {"pwat", "prmsl", "u10", "v10", "absv850"} and ds.sizes["time"] == 8
    decoded = _gfs(out, "2024-09-01T12:00:00")
    for name, short in (("prmsl", "prmsl"), ("absv850", "absv"), ("u10", "10u"), ("pwat", "pwat")):
        stored = ds[name].sel(time="2024-09-01T12:00").values
        assert np.allclose(stored, decoded[short].astype("f4"), rtol=1e-6, atol=0)
    rel = "gfs.20240901/06/atmos/gfs.t06z.pgrb2.2p00.f000"
    with FileServer(out / "gfs") as srv:
        report = ingest("gfs", [f"{srv.url}/{rel}"], "gfs_remote", vars=["pwat", "absv:850"])
        ranges = [r["range"] for r in srv.requests if r["path"] == "/" + rel and r["method"] == "GET"]
    assert report.files == 1 and not report.quarantined
    assert ranges and all(r and r.startswith("bytes=") for r in ranges)  # only the two fields were fetched
    remote = open_store("gfs_remote")
    for name in ("pwat", "absv850"):
        assert np.array_equal(remote[name].values[0], ds[name].sel(time="2024-09-01T06:00").values)
