"""A moto S3 server on 127.0.0.1, shared by the tests that need an object store."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass
class LoopbackS3:
    endpoint: str
    client: object  # a boto3 S3 client on the server

    def storage_options(self) -> dict:
        """fsspec/s3fs options for the server (moto's fixed test credentials)."""
        return {"key": "testing", "secret": "testing",
                "client_kwargs": {"endpoint_url": self.endpoint, "region_name": "us-east-1"}}


@contextlib.contextmanager
def loopback_s3(*buckets: str) -> Iterator[LoopbackS3]:
    """Start a moto server on a free loopback port with ``buckets`` made; stop it afterwards."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                              aws_secret_access_key="testing")
        for bucket in buckets:
            client.create_bucket(Bucket=bucket)
        yield LoopbackS3(endpoint, client)
    finally:
        server.stop()
