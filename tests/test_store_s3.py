"""Stores on s3:// (a moto S3 server on 127.0.0.1): append, idempotence, plain xarray reads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from geopipe import store
from tests.support.writer import field
from tests.support.s3 import loopback_s3


@pytest.fixture(scope="module")
def s3():
    with loopback_s3("geodata") as server:
        yield server.storage_options()


def test_append_to_an_s3_store_is_idempotent_and_opens_with_xarray(s3):
    url = "s3://geodata/gfs.zarr"
    times = pd.date_range("2024-01-01", periods=6, freq="6h")
    first = store.append(field(times[:4]), url, chunks={"time": 2}, storage_options=s3)
    second = store.append(field(times), url, storage_options=s3)
    again = store.append(field(times), url, storage_options=s3)
    assert (first.written, second.written, again.written) == (4, 2, 0)
    ds = xr.open_zarr(url, consolidated=False, storage_options=s3)
    assert list(ds.time.values) == list(times.values)
    np.testing.assert_array_equal(ds.pwat.values, field(times).pwat.values)
    assert store.open_store(url, storage_options=s3).sizes["time"] == 6
