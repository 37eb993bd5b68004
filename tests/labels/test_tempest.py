"""geopipe's DetectNodes/StitchNodes against TempestExtremes' own output on real fields.

Data: the bundled real ERA5 months (2.5 deg, 2025-12 and 2026-01, 248 six-hourly steps), the
real GFS sample (2011-01-15 12Z), and TempestExtremes' node and track files made from them by
the C++ binaries (commit 80d2b54; commands in geopipe/sample/data/SOURCES.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from geopipe.labels import tefiles
from geopipe.labels import tempest as te

TE = ("era5", "tempestextremes")
COLUMNS = ["MSL", "VOS850"]
SPEC = dict(searchbymin="MSL", closedcontourcmd="MSL,200.0,5.5,0", mergedist=6.0,
            outputcmd="MSL,min,0;VOS850,max,2.5")
STITCH = te.StitchSpec(range=6.0, mintime="24h", maxgap=1)


@pytest.fixture(scope="module")
def era5(sample_dir) -> xr.Dataset:
    """MSL and VOS850 (vo x sign(latitude)) of the two months, dims time, latitude, longitude."""
    folder = sample_dir / "era5"
    msl = xr.concat([xr.open_dataset(folder / f"era5_msl_{m}_2.5deg.nc")["msl"] for m in ("202512", "202601")], "valid_time")
    vo = xr.concat([xr.open_dataset(folder / f"era5_vo850_{m}_2.5deg.nc")["vo"] for m in ("202512", "202601")],
                   "valid_time").isel(pressure_level=0, drop=True)
    ds = xr.Dataset({"MSL": msl, "VOS850": (vo * np.sign(vo["latitude"])).astype("f4")})
    return ds.rename(valid_time="time").drop_vars(["number", "expver"]).load()


@pytest.fixture(scope="module")
def era5_nodes(era5) -> pd.DataFrame:
    return te.detect_dataset(era5, te.DetectSpec.from_te(**SPEC), chunk=62)


def reference(sample_dir, name):
    return sample_dir.joinpath(*TE, name)


def matched(a: pd.DataFrame, b: pd.DataFrame, cells: int = 1) -> np.ndarray:
    """(len(a),) whether each node of ``a`` has a node of ``b`` at its time within ``cells`` grid cells."""
    out = np.zeros(len(a), bool)
    bt = {t: g for t, g in b.groupby("time")}
    for t, g in a.groupby("time"):
        other = bt.get(t)
        if other is None:
            continue
        di = np.abs(g["i"].to_numpy()[:, None] - other["i"].to_numpy()[None, :])
        di = np.minimum(di, 144 - di)
        dj = np.abs(g["j"].to_numpy()[:, None] - other["j"].to_numpy()[None, :])
        out[g.index.to_numpy()] = ((di <= cells) & (dj <= cells)).any(axis=1)
    return out


def not_pole_duplicates(nodes: pd.DataFrame) -> pd.DataFrame:
    """Drop the 90N rows where TempestExtremes lists one point as a node per longitude."""
    crowd = nodes[nodes["lat"] == 90.0].groupby("time").size()
    return nodes[~(nodes["time"].isin(crowd[crowd > 1].index) & (nodes["lat"] == 90.0))].reset_index(drop=True)


def test_era5_nodes_equal_tempestextremes_both_ways(sample_dir, era5_nodes):
    ref, times = tefiles.read_nodes(reference(sample_dir, "te_nodes_202512_202601.txt.gz"), COLUMNS)
    assert len(times) == 248 and len(ref) > 7000
    ours, theirs = not_pole_duplicates(era5_nodes), not_pole_duplicates(ref)
    assert matched(ours, theirs).mean() >= 0.99 and matched(theirs, ours).mean() >= 0.99
    # in fact node for node: the same grid points, the same output values (TE prints %.6e)
    both = era5_nodes.merge(ref, on=["time", "i", "j"], how="outer", indicator=True, suffixes=("", "_te"))
    assert (both["_merge"] == "both").all()
    np.testing.assert_allclose(both["MSL"], both["MSL_te"], rtol=1e-6)
    np.testing.assert_allclose(both["VOS850"], both["VOS850_te"], rtol=1e-6)
    # and the pole rows TempestExtremes duplicates are duplicated the same way
    assert (era5_nodes["lat"] == 90.0).sum() == (ref["lat"] == 90.0).sum() > 144


def test_written_node_file_is_tempestextremes_text(sample_dir, era5_nodes, tmp_path):
    path = tefiles.write_nodes(tmp_path / "nodes.txt", era5_nodes, COLUMNS, times=pd.DatetimeIndex(era5_nodes["time"]).unique())
    import gzip

    with gzip.open(reference(sample_dir, "te_nodes_202512_202601.txt.gz"), "rt") as fh:
        theirs = fh.read()
    ours = open(path).read()
    assert ours.splitlines()[:40] == theirs.splitlines()[:40]
    assert ours == theirs  # byte for byte
    back, times = tefiles.read_nodes(path, COLUMNS)
    pd.testing.assert_frame_equal(back[["time", "i", "j"]], era5_nodes[["time", "i", "j"]])


def pair_hits(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """For each pair of paths (track_a, track_b): how many nodes of ``a``'s path lie within one grid
    cell of a node of ``b``'s path at the same time."""
    near = pd.concat([b.assign(i=(b["i"] + di) % 144, j=b["j"] + dj) for di in (-1, 0, 1) for dj in (-1, 0, 1)])
    pairs = a.reset_index().merge(near[["track", "time", "i", "j"]], on=["time", "i", "j"], suffixes=("_a", "_b"))
    pairs = pairs.drop_duplicates(["index", "track_b"])
    return pairs.groupby(["track_a", "track_b"]).size().rename("hits").reset_index()


def partners(a: pd.DataFrame, b: pd.DataFrame) -> set:
    """The paths of ``a`` that are one storm with a path of ``b``: at least half the nodes of the
    longer of the two lie within one grid cell of the other's at the same time."""
    hits = pair_hits(a, b)
    hits["n"] = np.maximum(hits["track_a"].map(a.groupby("track").size()), hits["track_b"].map(b.groupby("track").size()))
    return set(hits.loc[hits["hits"] >= 0.5 * hits["n"], "track_a"])


def test_era5_tracks_equal_tempestextremes(sample_dir, era5_nodes, tmp_path):
    times = pd.DatetimeIndex(np.unique(era5_nodes["time"]))
    ours = te.stitch(era5_nodes, STITCH, times)
    ref = tefiles.read_tracks(reference(sample_dir, "te_tracks_202512_202601.txt.gz"), COLUMNS)
    n_ref = ref["track"].nunique()
    assert n_ref > 500
    assert len(partners(ref, ours)) / n_ref >= 0.97
    # TempestExtremes' reference keeps the tracks wholly inside the two months of a longer run:
    # a track of ours that reaches the record's last maxgap + 1 steps may go on in February
    ends = ours.groupby("track")["time"].max()
    judged = set(ends.index[ends < times[-2]])
    extra = judged - partners(ours, ref)
    assert len(extra) / n_ref <= 0.03
    # a track file written by geopipe reads back as the same paths
    back = tefiles.read_tracks(tefiles.write_tracks(tmp_path / "tracks.txt", ours, COLUMNS), COLUMNS)
    pd.testing.assert_frame_equal(back[["track", "time", "i", "j"]], ours[["track", "time", "i", "j"]])
    np.testing.assert_allclose(back[COLUMNS], ours[COLUMNS], rtol=1e-6)


def test_threshold_and_latitude_limits_equal_tempestextremes(sample_dir, era5):
    spec = te.DetectSpec.from_te(**SPEC, thresholdcmd="VOS850,>=,3.5e-5,2.5", minlat=-40, maxlat=40)
    ours = te.detect_dataset(era5, spec, chunk=124)
    ref, _ = tefiles.read_nodes(reference(sample_dir, "te_nodes_vort_202512_202601.txt.gz"), COLUMNS)
    assert len(ref) > 1000 and ours["lat"].abs().max() <= 40
    assert matched(ours, ref).mean() >= 0.99 and matched(ref, ours).mean() >= 0.99


def test_gfs_nodes_equal_tempestextremes(sample_dir, gfs_sample):
    ds = gfs_sample.isel(time=0)
    lat = ds["latitude"].values
    f = 2 * 7.2921159e-5 * np.sin(np.deg2rad(lat))[:, None]
    vos = ((ds["absv850"].values - f) * np.sign(lat)[:, None]).astype("f4")
    fields = {"MSL": ds["prmsl"].values[None], "VOS850": vos[None]}
    ours = te.detect(fields, lat, ds["longitude"].values, [gfs_sample["time"].values[0]], te.DetectSpec.from_te(**SPEC))
    ref, times = tefiles.read_nodes(reference(sample_dir, "te_nodes_gfs_2011011512_2.5deg.txt.gz"), COLUMNS)
    assert times[0] == pd.Timestamp("2011-01-15 12:00") and len(ref) > 15
    assert matched(ours, ref).mean() >= 0.99 and matched(ref, ours).mean() >= 0.99
    np.testing.assert_allclose(ours.merge(ref, on=["time", "i", "j"])["MSL_x"], ref["MSL"], rtol=1e-6)
