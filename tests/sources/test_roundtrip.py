"""Every registered reader through the same suite (as xarray's backend tests do).

For each reader in ``geopipe.sources.READERS``: open a bundled sample, write it through the
reader's own join (append along time, or merge by key), reopen the store, compare values,
ingest again (nothing written, values unchanged), and check that the store holds exactly
its catalog product's declaration.  A new reader only needs a row in ``SAMPLES``.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from geopipe import layout, store
from geopipe.ingest import ingest
from geopipe.sample import real
from geopipe.sources import READERS, get_reader
from geopipe.sources.base import JOINS

#: reader name -> (bundled sample files under geopipe/sample/data, reader options); small files
SAMPLES: dict[str, tuple[list[str], dict]] = {
    "era5": (["era5/era5_msl_202512_2.5deg.nc", "era5/era5_vo850_202512_2.5deg.nc"], {}),
    "gfs": (["gfs/gfs.t12z.pgrbf120.2p5deg.grib2"], {"vars": ["pwat", "prmsl", "u10"]}),
    "goes": (["goes/goes16_abi_cmip_C13_M1_20230011800_subset24x24.nc"], {}),
    "ibtracs": (["ibtracs/ibtracs.SA.list.v04r00.csv", "ibtracs/ibtracs.ACTIVE.list.v04r01.csv"], {}),
    "isgi": (["isgi/dst2000_kyoto_wdc_hourly.txt"], {}),
    "omni": (["isgi/omni_cdaweb_csv/OMNI_HRO2_1MIN.csv"], {}),
}


def _values(var) -> np.ndarray:
    v = np.asarray(var.values)
    return v.astype(str) if v.dtype.kind in "OUST" else v


@pytest.mark.parametrize("name", sorted(READERS))
def test_reader_round_trip(name, tmp_path):
    assert name in SAMPLES, f"reader {name!r} has no bundled sample: add one to SAMPLES in {__file__}"
    files, options = SAMPLES[name]
    paths = [str(real(*f.split("/"))) for f in files]
    reader = get_reader(name, **options)
    assert reader.joins in JOINS and (reader.joins == "append") == (reader.key is None)
    product = reader.product
    assert reader.dim == layout.product(product).append_dim
    assert all(reader.guess_can_open(p) for p in paths)

    opened = [reader.open_dataset(p).load() for p in reader.find(paths)]
    out = str(tmp_path / f"{name}.zarr")
    first = ingest(name, paths, out, strict=True, **options)
    assert first.written > 0 and not first.quarantined
    back = store.open_store(out).load()

    # every value read from the samples is in the store (a merge may reorder rows: match on the key)
    for ds in opened:
        for var in ds.data_vars:
            if reader.dim not in ds[var].dims:  # static (a grid mapping)
                got, want = back[var], ds[var]
            elif reader.joins == "merge" and reader.key != reader.dim:
                sel = np.isin(_values(back[reader.key]), _values(ds[reader.key]))
                got = back[var].isel({reader.dim: np.flatnonzero(sel)})
                order = np.lexsort((_values(ds["time"]), _values(ds[reader.key])))
                want = ds[var].isel({reader.dim: order})
            else:
                got = back[var].sel({reader.dim: ds[reader.dim]})
                want = ds[var]
            np.testing.assert_array_equal(_values(got), _values(want), err_msg=f"{name}: {var}")

    # re-ingesting the same files writes nothing and changes nothing
    again = ingest(name, paths, out, strict=True, **options)
    assert again.written == 0, again
    xr.testing.assert_equal(store.open_store(out).load(), back)

    # and the store is its product's declaration
    held = layout.describe(out, product)
    assert held == layout.expected(product, held)
