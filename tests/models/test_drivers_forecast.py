"""SYM-H forecasts with solar-wind drivers on REAL OMNI 1-min (May 2024, the Gannon storm):
windows at 5 min with couplings, masks and a bounded fill; the ladder with ARX and the
index-only LSTM scored per storm; predictions with drivers on a store with gaps."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from geopipe import store
from geopipe.cli import main
from geopipe.datasets import drivers as D
from geopipe.datasets.windows import build_windows
from geopipe.errors import InputError
from geopipe.models.io import load_config, load_keras_model, load_predictor
from geopipe.predict.forecast import predict_forecasts
from geopipe.predict.nowcast import L1_KM, nowcast, read_swpc
from geopipe.sample.server import FileServer
from geopipe.training import train_ladder_forecast

MAY = ("isgi", "omni_swvo_csv", "OMNI_HIGH_RES_1min_202405.csv")
SPLIT = "2024-05-01/2024-05-08:train,2024-05-09/2024-05-21:test,2024-05-22/2024-05-31:val"
TINY = dict(units=(8,), epochs=1, batch_size=256, patience=1, device="cpu", seed=0, max_windows=4000)


@pytest.fixture(scope="module")
def omni(sample_dir, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("omni") / "omni.zarr")
    assert main(["ingest", "omni", str(sample_dir.joinpath(*MAY)), "--store", path]) == 0
    return path


@pytest.fixture(scope="module")
def raw(sample_dir):
    df = pd.read_csv(sample_dir.joinpath(*MAY), parse_dates=["timestamp"], index_col="timestamp")
    return df.rename(columns={"sym-h": "sym_h", "bavg": "b_mag"})


@pytest.fixture(scope="module")
def windows(omni, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("w") / "w.zarr")
    summary = build_windows(omni, out, drivers=[(omni, [])], cadence="5min", history=12, horizon=12,
                            leads=[30, 60], stride=3, splits=SPLIT, quiet_ratio=1.0)
    return summary, out, xr.open_zarr(out, consolidated=False).load()


@pytest.fixture(scope="module")
def ladder(windows, tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    # two members: the LSTMs are seed ensembles, and predict/nowcast below run the averaged model
    return root, train_ladder_forecast(windows[1], root, kinds=["ar", "arx", "lstm_index", "lstm"], members=2, **TINY)


def test_windows_hold_5min_means_couplings_and_masks(windows, raw):
    summary, _, ds = windows
    ch = list(np.asarray(ds["channel"].values, dtype=object).astype(str))
    assert ch == ["sym_h", "bz_gsm", "by_gsm", "b_mag", "speed", "proton_density", "pdyn", "phi_pc",
                  "imf_missing", "plasma_missing"]
    assert ds.attrs["cadence_minutes"] == 5.0 and ds.attrs["source_cadence_minutes"] == 1.0
    assert not np.isnan(ds["x"].values).any()  # never a silent NaN
    # the value at t is the mean of the minutes t-4..t (labelled at the end: known at t)
    means = raw.resample("5min", closed="right", label="right").mean()
    count = raw.resample("5min", closed="right", label="right").count()
    t = pd.DatetimeIndex(ds["time"].values)
    for i in [0, len(t) // 3, len(t) - 1]:
        hist = t[i] + pd.to_timedelta(ds["step"].values, "min")
        np.testing.assert_allclose(ds["x"].values[i, :, 0], means["sym_h"].reindex(hist), rtol=1e-5)
        have = np.all([count[v].reindex(hist).to_numpy() >= 3 for v in ("speed", "proton_density", "pdyn")], axis=0)
        np.testing.assert_array_equal(ds["x"].values[i, :, ch.index("plasma_missing")], (~have).astype("f4"))
        ok = have & (count["bz_gsm"].reindex(hist).to_numpy() >= 3)
        v = means["speed"].reindex(hist).to_numpy()
        np.testing.assert_allclose(ds["x"].values[i, ok, ch.index("speed")], v[ok], rtol=1e-5)
        # the Hill-Siscoe potential minute by minute, then the 5-min mean (not the potential of the means):
        # Phi_M = 57.6 E P^-1/6, Phi_S = 1600 P^1/3 / 10 S, Phi = Phi_M Phi_S / (Phi_M + Phi_S), E = V Bs
        e = raw["speed"] * np.maximum(0, -raw["bz_gsm"]) * 1e-3
        pm, ps = 57.6 * e * raw["pdyn"] ** (-1 / 6), 160.0 * raw["pdyn"] ** (1 / 3)
        phi = (pm * ps / (pm + ps)).resample("5min", closed="right", label="right")
        want = phi.mean().where(phi.count() >= 3).reindex(hist).to_numpy()
        both = np.isfinite(want)
        np.testing.assert_allclose(ds["x"].values[i, both, ch.index("phi_pc")], want[both], rtol=1e-4, atol=1e-4)
    # the real month has plasma gaps: the mask says where the drivers were invented
    assert ds["x"].values[:, :, ch.index("plasma_missing")].max() == 1.0
    spec = json.loads(ds.attrs["driver_spec"])
    assert spec["fill_steps"] == 12 and set(spec["fill_values"]) == set(ch[1:8]) and spec["couplings"] == ["phi_pc"]
    d = summary["dropped"]
    kept = d["candidates"] - d["gap_in_history"] - d["target_missing_at_a_lead"] - d["outside_split_blocks"]
    assert kept - d["balance_quiet_or_storm"] == summary["samples"] == ds.sizes["sample"]


def test_cli_windows_with_drivers_reports_its_dropped_windows(omni, tmp_path, capsys):
    out = str(tmp_path / "w.zarr")
    assert main(["windows", "--store", omni, "--drivers", omni, "--cadence", "5min", "--history", "12",
                 "--horizon", "12", "--leads", "30,60", "--stride", "6", "--split", SPLIT, "--out", out, "--json"]) == 0
    s = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert s["channels"][-2:] == ["imf_missing", "plasma_missing"] and s["dropped"]["candidates"] > s["samples"]


def test_hill_siscoe_potential_grows_like_v_bs_then_saturates():
    v, p = np.full(4, 500.0), np.full(4, 2.0)
    bz = np.array([5.0, -0.2, -10.0, -200.0])  # northward, weak, storm, absurdly strong
    phi = D.hill_siscoe(v, bz, p)
    assert phi[0] == 0.0
    # weak driving: the unsaturated 57.6 E P^-1/6 kV (E = 0.1 mV/m); strong: the limit 1600 P^1/3 / 10 S
    np.testing.assert_allclose(phi[1], 57.6 * 0.1 * 2 ** (-1 / 6), rtol=0.05)
    np.testing.assert_allclose(phi[3], 160 * 2 ** (1 / 3), rtol=0.05)
    # E = 5 mV/m, P = 2 nPa: 256.6 kV unsaturated and 201.6 kV limit combine to 112.9 kV
    np.testing.assert_allclose(phi[2], 112.9, atol=0.1)
    assert np.isnan(D.hill_siscoe(np.array([np.nan]), np.array([-5.0]), np.array([2.0]))).all()


def test_bounded_forward_fill_then_the_fill_value():
    v = np.array([[1.0], [np.nan], [np.nan], [np.nan], [5.0]], "f4")
    names, out, fills = D.finish(["speed"], v, 2, {"speed": 400.0})
    assert names == ["speed", "plasma_missing"]
    np.testing.assert_array_equal(out[:, 0], [1, 1, 1, 400, 5])
    np.testing.assert_array_equal(out[:, 1], [0, 1, 1, 1, 0])


def test_a_store_without_a_driver_channel_is_refused_by_name(omni, tmp_path):
    ds = store.open_store(omni)[["sym_h", "bz_gsm", "speed"]].isel(time=slice(0, 3000)).load()
    thin = str(tmp_path / "thin.zarr")
    store.append(ds, thin)
    with pytest.raises(InputError, match="proton_density, pdyn"):
        build_windows(thin, str(tmp_path / "w.zarr"), drivers=[(thin, [])], cadence="5min", history=6, horizon=6)
    assert main(["windows", "--store", thin, "--drivers", f"{thin}:bz_gsm,pdyn", "--cadence", "5min",
                 "--out", str(tmp_path / "w2.zarr")]) != 0


def test_ladder_scores_arx_index_lstm_and_driver_lstm_per_storm(ladder):
    root, metrics = ladder
    kinds = [r["kind"] for r in metrics["ladder"] if not r["skipped"]]
    assert kinds == ["persistence", "ar", "arx", "lstm_index", "lstm"]
    assert load_config(root / "lstm_index")["channels"] == ["sym_h"]
    assert "drivers" not in load_config(root / "lstm_index")
    cfg = load_config(root / "lstm")
    assert cfg["drivers"]["variables"][:2] == ["bz_gsm", "by_gsm"] and cfg["linear_skip"] is True
    # the seed ensemble is one saved model: the mean of its members, each started at the ARX fit
    assert cfg["members"] == 2
    model = load_keras_model(root / "lstm")
    members = [m for m in model.layers if m.name.startswith("lstm_member")]
    assert len(members) == 2
    x = np.random.default_rng(0).normal(size=(5, cfg["history"], len(cfg["channels"]))).astype("f4")
    each = [np.asarray(m.predict_on_batch(x)) for m in members]
    assert not np.allclose(each[0], each[1])
    np.testing.assert_allclose(np.asarray(model.predict_on_batch(x)), (each[0] + each[1]) / 2, rtol=1e-5, atol=1e-4)
    # the skip is held at the ARX fit (in standardised units), split into the index's part and the
    # drivers' part, and a gain of the LSTM scales each
    assert cfg["gain"] is True and cfg["train_linear"] is False
    assert cfg["gain_groups"] == {"index": ["sym_h"], "drivers": cfg["channels"][1:]}
    arx = load_predictor(root / "arx")
    coef = arx.coef.reshape(cfg["history"], len(cfg["channels"]), -1)
    for m in members:
        kernel, bias = m.get_layer("linear_index").get_weights()
        np.testing.assert_allclose(kernel, coef[:, :1].reshape(-1, coef.shape[-1]), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(bias, arx.intercept, rtol=1e-5, atol=1e-6)
        kernel, bias = m.get_layer("linear_drivers").get_weights()
        np.testing.assert_allclose(kernel, coef[:, 1:].reshape(-1, coef.shape[-1]), rtol=1e-5, atol=1e-6)
        assert not bias.any()
        for group in ("index", "drivers"):  # trained away from the zero start
            assert np.abs(m.get_layer(f"gain_{group}").get_weights()[0]).max() > 0
    storms = metrics["test_storms"]
    gannon = [n for n, s in storms.items() if s["min"] < -450]  # 5-min means of the -518 nT minute
    assert gannon, storms
    for r in metrics["ladder"]:
        if not r["skipped"]:
            assert set(r["storms"]) == set(storms)
            assert set(r["storms"][gannon[0]]) == {"30", "60"}
    pers = next(r for r in metrics["ladder"] if r["kind"] == "persistence")
    assert pers["storms"][gannon[0]]["60"]["lag_minutes"] == 60
    assert 0 < pers["leads"]["60"]["n_storm"] < metrics["samples"]["test"]  # the storm flag, read back as words
    assert gannon[0] in metrics["per_storm"]
    report = (root / "report.md").read_text()
    assert "Per test storm" in report and "Published anchors" in report and "Collado-Villaverde" in report


def test_predict_with_drivers_on_a_store_with_gaps_counts_what_it_could_not_forecast(ladder, omni, tmp_path):
    root, _ = ladder
    ds = store.open_store(omni).sel(time=slice("2024-05-09", "2024-05-12")).load()
    t = pd.DatetimeIndex(ds["time"].values)
    ds["sym_h"].values[(t >= "2024-05-10T06:00") & (t < "2024-05-10T08:00")] = np.nan   # index gap: 2 h
    for v in ("speed", "proton_density", "pdyn"):                                         # plasma gap: 4 h
        ds[v].values[(t >= "2024-05-11T00:00") & (t < "2024-05-11T04:00")] = np.nan
    gappy = str(tmp_path / "gappy.zarr")
    store.append(ds, gappy)
    with pytest.raises(Exception, match="give its driver store"):
        predict_forecasts(root / "lstm", gappy, str(tmp_path / "f0.zarr"))
    s = predict_forecasts(root / "lstm", gappy, str(tmp_path / "f.zarr"), drivers=gappy)
    # 2 h of missing index + the 1 h of history after it, at 5 min: 12 * 3 - 1 issue times lost
    assert s["no_forecast"]["gap_in_index_history"] >= 24
    assert s["written"] == s["issue_times_possible"] > 0
    assert s["written"] + s["no_forecast"]["gap_in_index_history"] == s["issue_times_requested"]
    assert s["driver_filled"] >= 36  # the plasma gap beyond the 60-min fill: masked, still forecast
    out = xr.open_zarr(s["store"], consolidated=False)
    assert np.isfinite(out["forecast"].values).all()
    assert (pd.DatetimeIndex(out["time"].values).minute % 5 == 0).all()
    no_pdyn = str(tmp_path / "nopdyn.zarr")
    store.append(ds.drop_vars("pdyn"), no_pdyn)
    with pytest.raises(InputError, match="pdyn"):
        predict_forecasts(root / "lstm", gappy, str(tmp_path / "f2.zarr"), drivers=no_pdyn)


def _swpc_json(folder, raw: pd.DataFrame, start, end) -> None:
    """SWPC real-time mag/plasma JSON (the product layout) from real OMNI minutes, moved back to L1."""
    sel = raw.loc[start:end]
    t = sel.index - pd.to_timedelta(L1_KM / sel["speed"].interpolate(limit_direction="both").clip(lower=200), "s")

    def cell(v):
        return None if not np.isfinite(v) else f"{v:.2f}"

    mag = [["time_tag", "bx_gsm", "by_gsm", "bz_gsm", "lon_gsm", "lat_gsm", "bt"]] + [
        [f"{tt:%Y-%m-%d %H:%M:%S}.000", cell(r.bx_gsm), cell(r.by_gsm), cell(r.bz_gsm), "0.00", "0.00", cell(r.b_mag)]
        for tt, r in zip(t, sel.itertuples())]
    plasma = [["time_tag", "density", "speed", "temperature"]] + [
        [f"{tt:%Y-%m-%d %H:%M:%S}.000", cell(r.proton_density), cell(r.speed), cell(r.temperature)]
        for tt, r in zip(t, sel.itertuples())]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mag-1-day.json").write_text(json.dumps(mag))
    (folder / "plasma-1-day.json").write_text(json.dumps(plasma))


@pytest.mark.parametrize("sw_end, expect", [("2024-05-10T18:00", "drivers"),
                                            ("2024-05-10T15:00", "index-only (solar wind stale)")])
def test_nowcast_uses_the_solar_wind_when_fresh_and_the_index_model_when_stale(ladder, omni, raw, tmp_path,
                                                                             sw_end, expect):
    root, _ = ladder
    index = str(tmp_path / "isgi.zarr")
    store.append(store.open_store(omni)[["sym_h"]].sel(time=slice("2024-05-10T06", "2024-05-10T18:00")).load(), index)
    _swpc_json(tmp_path / "srv" / "products" / "solar-wind", raw, "2024-05-09T18:00", sw_end)
    with FileServer(tmp_path / "srv") as server:
        s = nowcast(root / "lstm", root / "lstm_index", index, str(tmp_path / "sw.zarr"), str(tmp_path / "now"),
                    swpc=f"{server.url}/products/solar-wind", hours=2)
    assert s["nowcast_model"] == expect and s["stale"] is (expect != "drivers")
    assert s["written"] > 0 and s["store"].endswith("drivers.zarr" if expect == "drivers" else "index_only.zarr")
    sw = store.open_store(str(tmp_path / "sw.zarr"))
    assert {"bz_gsm", "speed", "pdyn"} <= set(sw.data_vars)
    assert 300 < np.nanmax(sw["speed"].values) < 1200  # the real wind came through the real-time reader


def test_swpc_reader_refuses_a_page_that_is_not_the_product(tmp_path):
    (tmp_path / "mag-1-day.json").write_text("<html>maintenance</html>")
    (tmp_path / "plasma-1-day.json").write_text("[]")
    with FileServer(tmp_path) as server, pytest.raises(InputError, match="mag-1-day.json"):
        read_swpc(server.url)
