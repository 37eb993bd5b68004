"""Each product's layout is declared once (catalog/products.yaml); the store holds exactly that.

* every product's checked-in ``zarr.json`` template equals the one the store writes today
  from the declaration (``python -m geopipe.catalog templates --update`` after a change);
* a write that does not match its product is refused, naming the store and the difference;
* what :func:`geopipe.layout.describe` reads back from a store written by the real writer
  equals the declaration (the demo test checks the same on every demo store);
* the README's store table is the catalog's.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from geopipe import layout, store
from geopipe.catalog import load
from geopipe.errors import StoreError

ROOT = Path(__file__).resolve().parent.parent
PRODUCTS = list(load().products)


@pytest.mark.parametrize("name", PRODUCTS)
def test_template_is_what_the_store_writes_for_the_declaration(name, tmp_path):
    on_disk = layout.read_template(name)
    assert on_disk is not None, f"no template for {name}: python -m geopipe.catalog templates --update {name}"
    assert on_disk == layout.template(name), f"{name}: python -m geopipe.catalog templates --update {name}"
    # the template's arrays are the declared coords and variables, with the declared dtypes and dims
    arrays = on_disk["consolidated_metadata"]["metadata"]
    decl = layout.declaration(name)
    assert set(arrays) == set(decl["coords"]) | set(decl["variables"])
    for n, v in {**decl["coords"], **decl["variables"]}.items():
        assert (arrays[n].get("dimension_names") or []) == v["dims"], n
        for key, value in v["attrs"].items():
            assert arrays[n]["attributes"][key] == value, (n, key)
        for d, size in decl["chunks"].items():
            if d in v["dims"]:
                assert arrays[n]["chunk_grid"]["configuration"]["chunk_shape"][v["dims"].index(d)] == size, (n, d)


def test_the_template_command_reports_a_stale_template(tmp_path, monkeypatch):
    import shutil

    cat = tmp_path / "catalog"
    shutil.copytree(load.__globals__["catalog_dir"](), cat)
    text = (cat / "products.yaml").read_text().replace("chunks: {time: 32768}", "chunks: {time: 4096}")
    (cat / "products.yaml").write_text(text)
    env = {"GEOPIPE_CATALOG": str(cat)}
    run = lambda *a: subprocess.run([sys.executable, "-m", "geopipe.catalog", "templates", *a], capture_output=True,  # noqa: E731
                                    text=True, env={**__import__("os").environ, **env}, timeout=300)
    stale = run("forecasts")
    assert stale.returncode == 1 and "forecasts" in stale.stderr
    assert run("--update", "forecasts").returncode == 0
    fresh = json.loads((cat / "templates" / "forecasts.zarr.json").read_text())
    assert fresh["consolidated_metadata"]["metadata"]["forecast"]["chunk_grid"]["configuration"]["chunk_shape"][0] == 4096
    assert run("forecasts").returncode == 0


def _forecasts(n: int = 5) -> xr.Dataset:
    t = pd.date_range("2015-03-17", periods=n, freq="min").values
    rng = np.random.default_rng(0)
    data = {k: (("time", "lead"), rng.normal(size=(n, 3)).astype("f4")) for k in ("forecast", "observed", "persistence")}
    return xr.Dataset(data, coords={"time": t, "lead": ("lead", np.array([15, 30, 60], "i4"))})


def test_a_write_that_differs_from_the_declaration_is_refused(tmp_path):
    url = str(tmp_path / "forecasts.zarr")
    cases = {
        "float64": _forecasts().assign(forecast=lambda d: d["forecast"].astype("f8")),
        "not declared": _forecasts().assign(extra=(("time",), np.zeros(5, "f4"))),
        "dims": _forecasts().assign(forecast=lambda d: d["forecast"].transpose("lead", "time")),
        "units": _forecasts().assign_coords(lead=("lead", np.array([15, 30, 60], "i4"), {"units": "hours"})),
    }
    for what, ds in cases.items():
        with pytest.raises(StoreError, match=r"forecasts\.zarr: the write does not match the catalog's product forecasts") as err:
            store.append(ds, url, product="forecasts")
        assert what.split()[0] in str(err.value) or what == "dims" and "dims" in str(err.value), str(err.value)
        assert "\n" not in str(err.value)
        assert not store.exists(url)  # nothing half-written
    result = store.append(_forecasts(), url, product="forecasts")
    assert result.written == 5
    held = layout.describe(url, "forecasts")
    assert held == layout.expected("forecasts", held)
    assert held["chunks"] == {"time": 32768}  # the declared chunk, not clipped to the 5 steps written
    assert xr.open_zarr(url, consolidated=False)["lead"].attrs["units"] == "minutes"  # declared attrs are set


def test_categorical_strings_are_stored_as_cf_flags_and_read_back(tmp_path):
    from geopipe import flags

    split = np.array(["train", "val", "test", "train"], dtype=np.dtypes.StringDType())  # numpy 2 strings
    var = flags.encode(xr.Variable("sample", split), {0: "train", 1: "val", 2: "test"})
    assert var.dtype == np.uint8 and var.values.tolist() == [0, 1, 2, 0]
    assert var.attrs == {"flag_values": [0, 1, 2], "flag_meanings": "train val test"}
    path = str(tmp_path / "x.zarr")
    xr.Dataset({"split": var}).to_netcdf(tmp_path / "x.nc")  # a NetCDF export carries it too
    store.replace(xr.Dataset({"split": var}), path, dim="sample")
    back = xr.open_zarr(path, consolidated=False)["split"]
    assert back.dtype == np.uint8
    assert flags.decode(back).tolist() == ["train", "val", "test", "train"]
    assert flags.decode(xr.open_dataset(tmp_path / "x.nc")["split"]).tolist() == ["train", "val", "test", "train"]
    with pytest.raises(StoreError, match="not among its categories"):
        flags.encode(xr.Variable("sample", np.array(["train", "holdout"])), {0: "train", 1: "val", 2: "test"})


def _readme_table() -> dict[str, tuple[str, str]]:
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- store-table:start -->", 1)[1].split("<!-- store-table:end -->", 1)[0]
    rows = {}
    for line in block.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0] not in ("product", "") and not set(cells[0]) <= set("-: "):
            rows[cells[0]] = (cells[1], cells[2])
    return rows


def test_the_readme_store_table_is_the_catalogs():
    want = {n: (p.store, ", ".join(p.dims)) for n, p in load().products.items()}
    assert _readme_table() == want, "regenerate it: python -m geopipe.layout readme"
    assert layout.readme_table() in (ROOT / "README.md").read_text()
    assert re.search(r"python -m geopipe.layout readme", (ROOT / "README.md").read_text())
