"""The parent flows: ``cyclone_pipeline`` and ``symh_pipeline``, composed of the per-step flows.

Their parameters are typed (pydantic models), so the Prefect UI shows a form and a bad config
is refused before anything runs.  ``geopipe run cyclone-pipeline --config FILE`` runs them
locally; deploy/prefect.yaml runs them as deployments.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from prefect import flow
from pydantic import BaseModel, ConfigDict, Field

from flows.common import product_stores
from flows.datasets import build_patches, build_windows
from flows.ingest import ingest_gfs, ingest_goes, ingest_ibtracs, ingest_isgi, ingest_omni
from flows.labels import build_labels
from flows.predict import predict, render_maps
from flows.train import train_lstm, train_unet
from geopipe.datasets.defaults import PATCHES, WINDOWS

#: the store of each catalog product (the default of every ``*_store``/``*_out`` field)
STORES = product_stores()


class CycloneConfig(BaseModel):
    """Everything ``cyclone_pipeline`` does, from raw files to maps."""

    model_config = ConfigDict(extra="forbid")
    gfs_inputs: list[str] = Field(default_factory=list, description="GRIB2 files, folders, globs or URLs")
    gfs_cycles: list[str] = Field(default_factory=list, description="cycles to fetch by .idx byte ranges")
    gfs_fhours: str = "0"
    gfs_remote: str | None = Field(None, description="catalog remote name or URL base of a NOAA-like archive")
    gfs_resolution: str = Field("0p25", description="NOAA product resolution in file names: 0p25, 0p50, 1p00")
    gfs_store: str = STORES["gfs"]
    goes_inputs: list[str] = Field(default_factory=list)
    goes_grid: str | None = None
    goes_store: str = STORES["goes"]
    ibtracs_inputs: list[str] = Field(default_factory=list)
    ibtracs_store: str = STORES["ibtracs"]
    labels_box: int | None = Field(None, description="box side in pixels (default: catalog/labels.yaml)")
    labels_radius_km: float | None = None
    labels_window: str | None = Field(None, description="activity window (default: catalog/labels.yaml)")
    heuristic: bool = True
    patch_vars: list[str] = Field(default_factory=lambda: ["pwat", "prmsl", "u10", "v10", "absv850"])
    patch_size: int = PATCHES.size
    neg_ratio: float = PATCHES.neg_ratio
    splits: str = Field(..., description="START/END:train,START/END:val,START/END:test")
    patch_options: dict = Field(default_factory=dict)
    seed: int = PATCHES.seed
    ladder: list[str] | None = Field(None, description="rungs to train (default: the whole ladder)")
    train_params: dict = Field(default_factory=dict)
    models_root: str = "models/cyclones"
    predict_times: str | None = None
    map_times: list[str] = Field(default_factory=list)
    maps_dir: str = "maps"
    dask_address: str | None = None


class SymhConfig(BaseModel):
    """Everything ``symh_pipeline`` does, from Kyoto/OMNI files to forecasts and a plot."""

    model_config = ConfigDict(extra="forbid")
    isgi_inputs: list[str] = Field(default_factory=list)
    isgi_store: str = STORES["isgi"]
    omni_inputs: list[str] = Field(default_factory=list)
    omni_store: str = STORES["omni"]
    storms_out: str = STORES["storms"]
    var: str = WINDOWS.var
    history: int = WINDOWS.history
    horizon: int = WINDOWS.horizon
    window_options: dict = Field(default_factory=dict)
    windows_out: str = STORES["windows"]
    ladder: list[str] | None = None
    train_params: dict = Field(default_factory=dict)
    models_root: str = "models/symh"
    forecast_times: str | None = None
    forecasts_out: str = STORES["forecasts"]
    plot_window: list[str] | None = None
    plot_lead: int = 60
    maps_dir: str = "maps"
    dask_address: str | None = None


@flow(name="cyclone-pipeline", log_prints=True)
def cyclone_pipeline(config: CycloneConfig) -> dict:
    """Ingest GFS, GOES and IBTrACS; label; build patches; train the ladder; predict; map."""
    c = config
    out: dict = {"stores": {}, "steps": {}}
    if c.gfs_inputs or c.gfs_cycles:
        out["steps"]["ingest_gfs"] = ingest_gfs(inputs=c.gfs_inputs, cycles=c.gfs_cycles, fhours=c.gfs_fhours,
                                                remote=c.gfs_remote, resolution=c.gfs_resolution,
                                                store=c.gfs_store, dask_address=c.dask_address)
    out["stores"]["gfs"] = c.gfs_store
    if c.goes_inputs:
        out["steps"]["ingest_goes"] = ingest_goes(inputs=c.goes_inputs, store=c.goes_store, grid=c.goes_grid,
                                                  dask_address=c.dask_address)
        out["stores"]["goes"] = c.goes_store
    if c.ibtracs_inputs:
        out["steps"]["ingest_ibtracs"] = ingest_ibtracs(inputs=c.ibtracs_inputs, store=c.ibtracs_store)
        out["stores"]["ibtracs"] = c.ibtracs_store
    out["steps"]["labels"] = build_labels(
        grid_store=c.gfs_store, tracks=c.ibtracs_store, ibtracs_out=STORES["labels_ibtracs"],
        heuristic_out=STORES["labels_heuristic"] if c.heuristic else None, box=c.labels_box,
        radius_km=c.labels_radius_km, window=c.labels_window, dask_address=c.dask_address)
    out["stores"].update(labels_ibtracs=STORES["labels_ibtracs"],
                         **({"labels_heuristic": STORES["labels_heuristic"]} if c.heuristic else {}))
    out["steps"]["patches"] = build_patches(
        inputs=[f"{c.gfs_store}:{','.join(c.patch_vars)}"], labels=STORES["labels_ibtracs"], out=STORES["patches"],
        size=c.patch_size, neg_ratio=c.neg_ratio, splits=c.splits, seed=c.seed, options=c.patch_options,
        dask_address=c.dask_address)
    out["stores"]["patches"] = STORES["patches"]
    ladder = train_unet(patches=STORES["patches"], out_root=c.models_root, kinds=c.ladder,
                        params={"seed": c.seed, **c.train_params})
    out["steps"]["train"] = ladder
    model = (ladder.get("folders") or {}).get("unet") or os.path.join(c.models_root, "unet")
    out["stores"]["unet_model"] = model
    out["steps"]["predict"] = predict(model=model, store=c.gfs_store, out=STORES["predictions"],
                                      times=c.predict_times, dask_address=c.dask_address)
    out["stores"]["predictions"] = STORES["predictions"]
    out["maps"] = render_maps(pred=STORES["predictions"], times=c.map_times, out_dir=c.maps_dir,
                              tracks=c.ibtracs_store if c.ibtracs_inputs else None, labels=STORES["labels_ibtracs"])
    return out


@flow(name="symh-pipeline", log_prints=True)
def symh_pipeline(config: SymhConfig) -> dict:
    """Ingest SYM-H/ASY-H (and OMNI); label storms; build windows; train the ladder; forecast; plot."""
    c = config
    out: dict = {"stores": {}, "steps": {}}
    if c.isgi_inputs:
        out["steps"]["ingest_isgi"] = ingest_isgi(inputs=c.isgi_inputs, store=c.isgi_store)
    out["stores"]["isgi"] = c.isgi_store
    options = dict(c.window_options)
    if c.omni_inputs:
        out["steps"]["ingest_omni"] = ingest_omni(inputs=c.omni_inputs, store=c.omni_store)
        out["stores"]["omni"] = c.omni_store
    out["steps"]["labels"] = build_labels(isgi_store=c.isgi_store, storms_out=c.storms_out, ibtracs_out=None,
                                          heuristic_out=None)
    out["stores"]["storms"] = c.storms_out
    out["steps"]["windows"] = build_windows(store=c.isgi_store, var=c.var, out=c.windows_out, history=c.history,
                                            horizon=c.horizon, options=options, dask_address=c.dask_address)
    out["stores"]["windows"] = c.windows_out
    ladder = train_lstm(windows=c.windows_out, out_root=c.models_root, kinds=c.ladder, params=c.train_params)
    out["steps"]["train"] = ladder
    model = (ladder.get("folders") or {}).get("lstm") or os.path.join(c.models_root, "lstm")
    out["stores"]["lstm_model"] = model
    drivers = c.omni_store if options.get("drivers") else None
    out["steps"]["forecast"] = predict(model=model, store=c.isgi_store, out=c.forecasts_out, times=c.forecast_times,
                                       drivers=drivers)
    out["stores"]["forecasts"] = c.forecasts_out
    out["maps"] = render_maps(forecasts=c.forecasts_out, forecast_window=c.plot_window, lead=c.plot_lead,
                              out_dir=c.maps_dir)
    return out


def load_config(path: str | os.PathLike, kind: str) -> BaseModel:
    """Read a pipeline config (YAML) into its model; errors name the file and the field."""
    from pydantic import ValidationError

    from geopipe.errors import GeopipeError

    model = {"cyclone": CycloneConfig, "symh": SymhConfig}[kind]
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
        return model.model_validate(data)
    except FileNotFoundError:
        raise GeopipeError(f"{path}: no such config file") from None
    except yaml.YAMLError as exc:
        raise GeopipeError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        raise GeopipeError(f"{path}: field {'.'.join(map(str, err['loc']))}: {err['msg']}") from None


@flow(name="retrain-cyclones", log_prints=True)
def retrain_cyclones(config: str) -> dict:
    """Weekly: rebuild labels and patches from the stores and retrain the segmentation ladder."""
    c = load_config(config, "cyclone")
    c = c.model_copy(update={"gfs_inputs": [], "gfs_cycles": [], "goes_inputs": [], "ibtracs_inputs": [],
                             "map_times": []})
    return cyclone_pipeline(c)


@flow(name="retrain-symh", log_prints=True)
def retrain_symh(config: str) -> dict:
    """Weekly: rebuild the windows from the ISGI store and retrain the SYM-H ladder."""
    c = load_config(config, "symh")
    return symh_pipeline(c.model_copy(update={"isgi_inputs": [], "omni_inputs": []}))
