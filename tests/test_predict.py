"""geopipe.predict: full-grid segmentation predictions and SYM-H forecasts, on tiny Keras models.

The models are built here with known weights (a 1x1 convolution + sigmoid; a linear Dense
forecaster) and saved as model folders per geopipe.models.io, so every expected value is
computed independently from the weights and the stored normalisation.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from geopipe import store
from geopipe.errors import GeopipeError
from geopipe.models import io
from geopipe.predict import predict_forecasts, predict_grid
from geopipe.sample import real

CHANNELS = ["pwat", "prmsl"]
NORM = {"channels": ["prmsl", "pwat"], "mean": [100800.0, 25.0], "std": [900.0, 12.0]}  # other order on purpose
W, B = {"pwat": 1.5, "prmsl": -2.0}, -1.0


# ----------------------------------------------------------------------------- builders (shared by the map tests)


def save_model_folder(path, model, config: dict, normalization: dict):
    """A model folder per geopipe.models.io: model.keras, config.json, normalization.json."""
    path.mkdir(parents=True, exist_ok=True)
    model.save(path / "model.keras")
    io.save_json(path, "config.json", config)
    io.save_json(path, "normalization.json", normalization)
    return path


def seg_model_folder(path, channels=CHANNELS, weights=W, bias=B, threshold=0.6, label="tropical_cyclone",
                     normalization=NORM):
    """1x1 convolution + sigmoid on (None, None, C): p = sigmoid(sum_c w_c z_c + b)."""
    import keras

    inp = keras.Input((None, None, len(channels)))
    out = keras.layers.Conv2D(1, 1, activation="sigmoid", name="logit")(inp)
    model = keras.Model(inp, out)
    model.get_layer("logit").set_weights([np.array([weights[c] for c in channels], "f4").reshape(1, 1, -1, 1),
                                          np.array([bias], "f4")])
    cfg = {"kind": "conv1x1", "task": "segmentation", "channels": list(channels), "threshold": threshold,
           "label": label, "patch_size": 32}
    return save_model_folder(path, model, cfg, normalization)


def expected_probability(ds: xr.Dataset, channels=CHANNELS, weights=W, bias=B, normalization=NORM) -> np.ndarray:
    """The probability the 1x1 model must give, from the raw fields (float64 reference)."""
    logit = np.full(ds[channels[0]].shape, bias, "f8")
    for c in channels:
        i = normalization["channels"].index(c)
        z = (ds[c].values.astype("f8") - normalization["mean"][i]) / normalization["std"][i]
        logit += weights[c] * np.where(np.isfinite(z), z, 0.0)
    p = 1.0 / (1.0 + np.exp(-logit))
    p[np.all([np.isnan(ds[c].values) for c in channels], axis=0)] = np.nan
    return p


def grid_dataset(times, lat, lon, centres, seed=0) -> xr.Dataset:
    """GFS-like fields (pwat kg m-2, prmsl Pa) with a moist low at ``centres[i]`` = (lat, lon) per time."""
    rng = np.random.default_rng(seed)
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    pwat, prmsl = [], []
    for clat, clon in centres:
        dlon = (lo - clon + 180.0) % 360.0 - 180.0
        blob = np.exp(-((la - clat) ** 2 + (dlon * np.cos(np.deg2rad(clat))) ** 2) / (2 * 3.0 ** 2))
        pwat.append(20 + 15 * np.cos(np.deg2rad(la)) + 35 * blob + rng.normal(0, 1, la.shape))
        prmsl.append(101200 - 3500 * blob + rng.normal(0, 80, la.shape))
    ds = xr.Dataset(
        {"pwat": (("time", "latitude", "longitude"), np.array(pwat, "f4"),
                  {"units": "kg m-2", "long_name": "precipitable water"}),
         "prmsl": (("time", "latitude", "longitude"), np.array(prmsl, "f4"),
                   {"units": "Pa", "long_name": "pressure reduced to MSL"})},
        coords={"time": ("time", pd.DatetimeIndex(times).values),
                "latitude": ("latitude", np.asarray(lat, "f8"), {"units": "degrees_north", "standard_name": "latitude"}),
                "longitude": ("longitude", np.asarray(lon, "f8"), {"units": "degrees_east", "standard_name": "longitude"})})
    return ds


def global_store(path, n_times=8, seed=0) -> tuple[str, xr.Dataset]:
    """A global 2.5-degree store laid out as GFS is (latitude 90..-90, longitude 0..357.5)."""
    times = pd.date_range("2011-01-10T00", periods=n_times, freq="6h")
    lat, lon = np.linspace(90, -90, 73), np.arange(144) * 2.5
    ds = grid_dataset(times, lat, lon, [(-15 - i, 160 + 2 * i) for i in range(n_times)], seed)
    if n_times > 3:
        ds["pwat"][2, 10:12, 20:25] = np.nan          # a data gap in one channel
        ds["pwat"][3, 40, 50] = ds["prmsl"][3, 40, 50] = np.nan  # no data at all in one pixel
    store.append(ds, str(path), chunks={"time": 3})
    return str(path), ds


# ----------------------------------------------------------------------------- segmentation


@pytest.fixture(scope="module")
def seg(tmp_path_factory):
    base = tmp_path_factory.mktemp("seg")
    src, ds = global_store(base / "gfs.zarr")
    return {"base": base, "store": src, "ds": ds, "model": seg_model_folder(base / "model")}


def test_prediction_store_has_the_input_grid_and_known_values(seg):
    out = str(seg["base"] / "pred.zarr")
    summary = predict_grid(seg["model"], seg["store"], out)
    assert summary["written"] == 8 and summary["threshold"] == 0.6  # threshold from config.json
    pred = xr.open_zarr(out, consolidated=False)
    src = xr.open_zarr(seg["store"], consolidated=False)
    assert np.array_equal(pred["latitude"].values, src["latitude"].values)   # values and order (90 .. -90)
    assert np.array_equal(pred["longitude"].values, src["longitude"].values)
    assert pred["latitude"].attrs == src["latitude"].attrs
    assert np.array_equal(pred["time"].values, src["time"].values)
    prob = pred["probability"]
    assert prob.dims == ("time", "latitude", "longitude") and prob.dtype == np.float32
    assert pred["mask"].dtype == np.uint8
    # normalisation exactly as stored (by channel name, NaN -> 0) through the known weights
    np.testing.assert_allclose(prob.values, expected_probability(seg["ds"]), rtol=0, atol=2e-6)
    p = prob.values
    assert np.nanmin(p) >= 0 and np.nanmax(p) <= 1
    assert np.isnan(p[3, 40, 50]) and pred["mask"].values[3, 40, 50] == 0  # no data: no probability
    assert np.isfinite(p[2, 10:12, 20:25]).all()                          # one channel missing still predicts
    assert np.array_equal(pred["mask"].values, (np.nan_to_num(p) >= 0.6).astype("u1"))
    assert pred["mask"].values.sum() > 0 and (p < 0.6).sum() > 0
    # CF and provenance
    assert pred["crs"].attrs["grid_mapping_name"] == "latitude_longitude"
    assert prob.attrs["grid_mapping"] == "crs" and pred["mask"].attrs["grid_mapping"] == "crs"
    assert prob.attrs["units"] == "1" and list(prob.attrs["valid_range"]) == [0.0, 1.0]
    assert pred["mask"].attrs["flag_meanings"] == "no_tropical_cyclone tropical_cyclone"
    assert pred.attrs["model_hash"] == io.model_hash(seg["model"])
    assert pred.attrs["model_dir"] == str(seg["model"].resolve())
    assert pred.attrs["input_store"] == seg["store"] and pred.attrs["threshold"] == 0.6
    assert pred.attrs["geopipe_version"] and pred.attrs["Conventions"].startswith("CF")
    assert pred.attrs["time_coverage_start"] == "2011-01-10 00:00:00"


def test_predicting_again_adds_nothing_and_extends_only_new_times(seg):
    out = str(seg["base"] / "pred_parts.zarr")
    first = predict_grid(seg["model"], seg["store"], out, times="2011-01-10T06/2011-01-11T00", time_block=2)
    assert first["written"] == 4
    again = predict_grid(seg["model"], seg["store"], out, times="2011-01-10T06/2011-01-11T00")
    assert again["written"] == 0 and again["skipped"] == 4
    rest = predict_grid(seg["model"], seg["store"], out)
    assert rest["written"] == 4 and rest["skipped"] == 4
    assert predict_grid(seg["model"], seg["store"], out)["written"] == 0
    pred = xr.open_zarr(out, consolidated=False)
    t = pd.Index(pred["time"].values)
    assert len(t) == 8 and not t.has_duplicates
    order = np.argsort(t.values)
    np.testing.assert_allclose(pred["probability"].values[order], expected_probability(seg["ds"]), atol=2e-6)


def test_each_time_goes_through_the_model_once_in_blocks(seg, tmp_path, monkeypatch):
    """probability and mask come from one model run per block (a lazy mask would run it twice)."""
    import geopipe.predict.grid as grid

    calls, original = [], grid.predict_block
    monkeypatch.setattr(grid, "predict_block", lambda x, *a: calls.append(x.shape[0]) or original(x, *a))
    summary = predict_grid(seg["model"], seg["store"], str(tmp_path / "p.zarr"), time_block=3, blocks_per_write=2)
    assert summary["written"] == 8 and sorted(calls) == [2, 3, 3]


def test_threshold_argument_and_refusing_a_different_threshold_or_model(seg, tmp_path):
    out = str(tmp_path / "pred.zarr")
    predict_grid(seg["model"], seg["store"], out, times="2011-01-10T00/2011-01-10T00", threshold=0.9)
    pred = xr.open_zarr(out, consolidated=False)
    p = pred["probability"].values
    assert np.array_equal(pred["mask"].values, (np.nan_to_num(p) >= 0.9).astype("u1"))
    with pytest.raises(GeopipeError, match="threshold"):
        predict_grid(seg["model"], seg["store"], out, threshold=0.5)
    other = seg_model_folder(tmp_path / "other", bias=0.5, threshold=0.9)
    with pytest.raises(GeopipeError, match="write to a new store"):
        predict_grid(other, seg["store"], out)


def test_missing_channel_is_a_one_line_error(seg, tmp_path):
    model = seg_model_folder(tmp_path / "m", channels=["pwat", "u10"], weights={"pwat": 1.0, "u10": 1.0},
                             normalization={"channels": ["pwat", "u10"], "mean": [0, 0], "std": [1, 1]})
    with pytest.raises(GeopipeError, match=r"gfs.zarr: no variable\(s\) u10"):
        predict_grid(model, seg["store"], str(tmp_path / "p.zarr"))
    assert not store.exists(str(tmp_path / "p.zarr"))


def test_cli_predict(seg, tmp_path, capsys):
    from geopipe.cli import main

    out = tmp_path / "cli.zarr"
    assert main(["predict", "--model", str(seg["model"]), "--store", seg["store"], "--out", str(out),
                 "--times", "2011-01-11T00/2011-01-11T18", "--threshold", "0.8", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["written"] == 4 and summary["threshold"] == 0.8
    assert main(["predict", "--model", str(tmp_path / "nowhere"), "--store", seg["store"], "--out", str(out)]) == 2
    assert "not a geopipe model folder" in capsys.readouterr().err


def test_goes_native_grid_is_copied_exactly(tmp_path):
    """The real GOES-16 band-13 subset on its fixed grid: y/x, 2-D lat/lon and the projection survive."""
    from geopipe.sources.goes import GOESReader

    scene = GOESReader().open_dataset(str(real("goes", "goes16_abi_cmip_C13_M1_20230011800_subset24x24.nc")))
    src = str(tmp_path / "goes.zarr")
    store.append(scene, src)
    norm = {"channels": ["CMI_C13"], "mean": [283.0], "std": [3.0]}
    model = seg_model_folder(tmp_path / "m", channels=["CMI_C13"], weights={"CMI_C13": 2.0}, bias=0.0,
                             threshold=0.5, label="warm", normalization=norm)
    out = str(tmp_path / "pred.zarr")
    assert predict_grid(model, src, out)["written"] == 1
    pred, inp = xr.open_zarr(out, consolidated=False), xr.open_zarr(src, consolidated=False)
    assert pred["probability"].dims == ("time", "y", "x")
    for name in ("x", "y", "latitude", "longitude"):
        assert np.array_equal(pred[name].values, inp[name].values), name
    assert pred["goes_imager_projection"].attrs == inp["goes_imager_projection"].attrs
    assert pred["probability"].attrs["grid_mapping"] == "goes_imager_projection"
    np.testing.assert_allclose(pred["probability"].values,
                               expected_probability(inp, ["CMI_C13"], {"CMI_C13": 2.0}, 0.0, norm), atol=2e-6)


# ----------------------------------------------------------------------------- forecasts


HISTORY, LEADS = 4, [10, 30, 60]


@pytest.fixture(scope="module")
def isgi(tmp_path_factory):
    """Real Kyoto SYM-H/ASY-H (September 2017 storm, 1-min), one day, with a gap put in."""
    from geopipe.sources.isgi import ISGIReader

    base = tmp_path_factory.mktemp("isgi")
    full = ISGIReader().open_dataset(str(real("isgi", "kyoto_asysym_iaga2002", "WWW_aeasy00025746.dat.txt.bz2")))
    ds = full.sel(time=slice("2017-09-07T12:00", "2017-09-08T11:59"))[["sym_h", "asy_h"]].load()
    ds["sym_h"][300:303] = np.nan  # a 3-minute gap: windows that hold it must not be issued
    path = str(base / "isgi.zarr")
    store.append(ds, path)
    return {"base": base, "store": path, "ds": ds}


def dense_forecaster(path, residual: bool, cadence=1):
    """Linear: out_l = sum_k a_k z_sym[k] + c_l (Dense on the flattened (history, 2) window)."""
    import keras

    inp = keras.Input((HISTORY * 2,))
    layer = keras.layers.Dense(len(LEADS), name="lin")
    model = keras.Model(inp, layer(inp))
    kernel = np.zeros((HISTORY * 2, len(LEADS)), "f4")
    kernel[0::2, :] = np.array([0.1, 0.2, 0.3, 0.4], "f4")[:, None]  # sym_h steps, oldest first
    layer.set_weights([kernel, np.array([1.0, 2.0, 3.0], "f4")])
    cfg = {"kind": "dense", "task": "forecast", "target": "sym_h", "channels": ["sym_h", "asy_h"],
           "history": HISTORY, "leads": LEADS, "cadence_minutes": cadence, "residual": residual}
    norm = {"channels": ["sym_h", "asy_h"], "mean": [-20.0, 30.0], "std": [10.0, 5.0]}
    return save_model_folder(path, model, cfg, norm)


@pytest.mark.parametrize("residual", [False, True])
def test_forecast_store_layout_values_and_persistence(isgi, tmp_path, residual):
    model = dense_forecaster(tmp_path / "m", residual)
    out = str(tmp_path / "fc.zarr")
    summary = predict_forecasts(model, isgi["store"], out)
    fc = xr.open_zarr(out, consolidated=False)
    assert fc["forecast"].dims == ("time", "lead") and list(fc["lead"].values) == LEADS
    assert fc["lead"].attrs["units"] == "minutes"
    sym = isgi["ds"]["sym_h"].to_series()
    issue = pd.DatetimeIndex(fc["time"].values)
    # every issue time with 4 complete minutes of history, except those whose window holds the gap
    gap = sym.index[300:303]
    expect = sym.index[HISTORY - 1:]
    expect = expect[~((expect >= gap[0]) & (expect <= gap[-1] + pd.Timedelta(HISTORY - 1, "min")))]
    assert issue.equals(expect) and summary["written"] == len(expect)
    for j, lead in enumerate(LEADS):  # observed is the input series at time + lead (NaN past the end / in the gap)
        np.testing.assert_array_equal(fc["observed"].values[:, j], sym.reindex(issue + pd.Timedelta(lead, "min")).values)
    np.testing.assert_array_equal(fc["persistence"].values[:, 0], sym.reindex(issue).values)
    # the forecast from the known weights, on windows normalised with the stored statistics
    i = 1000
    window = sym.reindex(issue[i] - pd.to_timedelta(np.arange(HISTORY - 1, -1, -1), "min")).values
    out_l = ((window + 20.0) / 10.0 * np.array([0.1, 0.2, 0.3, 0.4])).sum() + np.array([1.0, 2.0, 3.0])
    if residual:
        out_l = out_l + window[-1]
    np.testing.assert_allclose(fc["forecast"].values[i], out_l, rtol=1e-5)
    # scoring against persistence with xarray alone
    rmse = np.sqrt(((fc.forecast - fc.observed) ** 2).mean("time"))
    assert rmse.dims == ("lead",) and np.isfinite(rmse).all()
    assert predict_forecasts(model, isgi["store"], out)["written"] == 0  # idempotent
    assert len(xr.open_zarr(out, consolidated=False)["time"]) == len(issue)


def test_forecast_observed_is_filled_when_the_input_grows(isgi, tmp_path):
    src = str(tmp_path / "isgi.zarr")
    first, later = isgi["ds"].isel(time=slice(0, 600)), isgi["ds"].isel(time=slice(600, 700))
    store.append(first, src)
    model = dense_forecaster(tmp_path / "m", False)
    out = str(tmp_path / "fc.zarr")
    predict_forecasts(model, src, out)
    before = xr.open_zarr(out, consolidated=False).load()
    assert np.isnan(before["observed"].values[-1, -1])  # 60 min past the last issue time: not observed yet
    store.append(later, src)
    predict_forecasts(model, src, out)
    after = xr.open_zarr(out, consolidated=False).load()
    last = pd.Timestamp(before["time"].values[-1])
    assert after["observed"].sel(time=last, lead=60).item() == isgi["ds"]["sym_h"].sel(time=last + pd.Timedelta("60min")).item()
    assert len(after["time"]) == len(before["time"]) + 100
    np.testing.assert_array_equal(after["forecast"].values[:len(before["time"])], before["forecast"].values)


def test_lstm_with_forecast_head_is_not_given_the_residual_twice(isgi, tmp_path):
    """geopipe's LSTM adds the last value inside the network: a fresh one forecasts persistence."""
    from geopipe.models.lstm import build_lstm

    model = build_lstm(n_channels=2, history=HISTORY, n_leads=len(LEADS), units=(4,), dropout=0.0,
                       target_mean=-20.0, target_std=10.0, residual=True)
    cfg = {"kind": "lstm", "task": "forecast", "target": "sym_h", "channels": ["sym_h", "asy_h"],
           "history": HISTORY, "leads": LEADS, "cadence_minutes": 1, "residual": True}
    folder = save_model_folder(tmp_path / "lstm", model, cfg,
                               {"channels": ["sym_h", "asy_h"], "mean": [-20.0, 30.0], "std": [10.0, 5.0]})
    out = str(tmp_path / "fc.zarr")
    predict_forecasts(folder, isgi["store"], out, times="2017-09-07T20:00/2017-09-07T22:00")
    fc = xr.open_zarr(out, consolidated=False)
    assert len(fc["time"]) == 121
    np.testing.assert_allclose(fc["forecast"].values, fc["persistence"].values, atol=1e-3)


def test_cli_predict_dispatches_forecast_models(isgi, tmp_path, capsys):
    from geopipe.cli import main

    model = dense_forecaster(tmp_path / "m", residual=False)
    out = str(tmp_path / "fc.zarr")
    args = ["predict", "--model", str(model), "--store", isgi["store"], "--out", out,
            "--times", "2017-09-08T00:00/2017-09-08T00:59", "--json"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["written"] == 60
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["written"] == 0
    assert xr.open_zarr(out, consolidated=False)["forecast"].dims == ("time", "lead")
