"""Stores on s3:// (a moto S3 server on 127.0.0.1): append, idempotence, plain xarray reads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from geopipe import store
from tests.support.writer import field


@pytest.fixture(scope="module")
def s3():
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket="geodata")
    yield {"key": "testing", "secret": "testing", "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"}}
    server.stop()


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
