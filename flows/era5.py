"""``era5_pipeline``: real cyclones on real reanalysis, from CDS NetCDF files to a U-Net's map.

Ingest ERA5 (msl and 850 hPa vorticity) into one store; label it with the TempestExtremes-style
detector (discs around the nodes of the kept tracks); cut balanced patches split by time blocks
(earlier weeks train, later weeks validate and test); train the segmentation ladder up to the
U-Net; predict the test weeks; draw a map.  Thin: every step is geopipe or one of the step flows.
"""

from __future__ import annotations

import os

from prefect import flow, task
from pydantic import BaseModel, ConfigDict, Field

from flows.common import product_stores
from flows.datasets import build_patches
from flows.ingest import ingest_source
from flows.predict import predict, render_maps
from flows.train import train_unet


STORES = product_stores()


class ERA5Config(BaseModel):
    """Everything ``era5_pipeline`` does."""

    model_config = ConfigDict(extra="forbid")
    inputs: list[str] = Field(..., description="ERA5 NetCDF/GRIB files, folders or an ARCO-ERA5 URL")
    store: str = STORES["era5"]
    labels_out: str = "labels/era5_heuristic.zarr"
    label_radius_km: float = 600.0
    patch_vars: list[str] = Field(default_factory=lambda: ["msl", "vo850"])
    patch_size: int = 32
    neg_ratio: float = 1.0
    splits: str = Field(..., description="START/END:train,START/END:val,START/END:test")
    patch_options: dict = Field(default_factory=dict)
    patches_out: str = "patches_era5.zarr"
    seed: int = 0
    ladder: list[str] | None = None
    train_params: dict = Field(default_factory=dict)
    models_root: str = "models/era5"
    predict_times: str | None = None
    predictions_out: str = "predictions_era5.zarr"
    map_times: list[str] = Field(default_factory=list)
    maps_dir: str = "maps/era5"
    dask_address: str | None = None


@task(name="label-era5")
def label_era5_task(store: str, out: str, radius_km: float) -> dict:
    from geopipe.labels.heuristic import heuristic_labels

    return heuristic_labels(store, out, detect={"mask": "radius", "mask_radius_km": radius_km})


@flow(name="era5-pipeline", log_prints=True)
def era5_pipeline(config: ERA5Config) -> dict:
    c = config
    out: dict = {"stores": {}, "steps": {}}
    out["steps"]["ingest"] = ingest_source("era5", c.inputs, c.store, dask_address=c.dask_address)
    out["stores"]["era5"] = c.store
    out["steps"]["labels"] = label_era5_task(c.store, c.labels_out, c.label_radius_km)
    out["stores"]["labels_era5"] = c.labels_out
    out["steps"]["patches"] = build_patches(
        inputs=[f"{c.store}:{','.join(c.patch_vars)}"], labels=c.labels_out, out=c.patches_out, size=c.patch_size,
        neg_ratio=c.neg_ratio, splits=c.splits, seed=c.seed, options=c.patch_options, dask_address=c.dask_address)
    out["stores"]["patches_era5"] = c.patches_out
    ladder = train_unet(patches=c.patches_out, out_root=c.models_root, kinds=c.ladder, params={"seed": c.seed, **c.train_params})
    out["steps"]["train"] = ladder
    model = (ladder.get("folders") or {}).get("unet") or os.path.join(c.models_root, "unet")
    out["stores"]["unet_era5_model"] = model
    out["steps"]["predict"] = predict(model=model, store=c.store, out=c.predictions_out, times=c.predict_times,
                                      dask_address=c.dask_address)
    out["stores"]["predictions_era5"] = c.predictions_out
    out["maps"] = render_maps(pred=c.predictions_out, times=c.map_times, out_dir=c.maps_dir, labels=c.labels_out)
    return out
