"""Safe defaults: paths stay under the data root, models load without running code, services
bind to loopback, no credentials in the repository, anonymous S3."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

import geopipe.catalog
from geopipe.config import resolve_store, safe_child
from geopipe.errors import CatalogError, GeopipeError, StoreError
from tests.reliability import corpus
from tests.reliability.launcher import ROOT

# ----------------------------------------------------------------------------- paths


@pytest.mark.parametrize("name", ["..", ".", ""])
def test_a_store_name_cannot_be_the_root_or_above_it(root, name):
    with pytest.raises(StoreError, match="escape the data root"):
        resolve_store(name)
    assert resolve_store("isgi.zarr") == str(root / "isgi.zarr")


def test_the_cli_refuses_a_store_name_above_the_root_in_one_line(launcher, tmp_path):
    result = launcher.run(["--root", str(tmp_path / "root"), "ingest", "isgi", str(corpus.KP), "--store", ".."])
    assert result.returncode == 2 and len(result.stderr_lines) == 1, result.stderr
    assert "escape the data root" in result.stderr_lines[0]
    assert not (tmp_path / "root").exists() or not any((tmp_path / "root").iterdir())


@pytest.fixture()
def catalog_copy(tmp_path, monkeypatch, launcher):
    """A writable copy of catalog/*.yaml, made the active catalog (``GEOPIPE_CATALOG``).

    (It asks for ``launcher`` so that the launcher process, shared by the session, is started
    before the variable is set and never inherits it.)"""
    folder = tmp_path / "catalog"
    shutil.copytree(geopipe.catalog.DEFAULT_DIR, folder)
    monkeypatch.setenv("GEOPIPE_CATALOG", str(folder))
    geopipe.catalog._load.cache_clear()
    yield folder
    geopipe.catalog._load.cache_clear()


def _set_store(folder: Path, product: str, value: str) -> Path:
    path = folder / "products.yaml"
    products = yaml.safe_load(path.read_text())
    products[product]["store"] = value
    path.write_text(yaml.safe_dump(products, sort_keys=False))
    geopipe.catalog._load.cache_clear()
    return path


@pytest.mark.parametrize("value", ["../isgi.zarr", "stores/../../isgi.zarr", "/tmp/isgi.zarr", "s3://bucket/isgi.zarr"])
def test_a_catalog_product_outside_the_data_root_fails_validation(catalog_copy, value):
    path = _set_store(catalog_copy, "isgi", value)
    with pytest.raises(CatalogError) as err:
        geopipe.catalog.load()
    message = str(err.value)
    assert str(path) in message and "'isgi'" in message and "field store" in message, message
    assert "\n" not in message


def test_the_cli_names_the_catalog_file_entry_and_field(launcher, catalog_copy, tmp_path):
    path = _set_store(catalog_copy, "isgi", "../outside.zarr")
    root = tmp_path / "root"
    result = launcher.run(["--root", str(root), "ingest", "isgi", str(corpus.KP)],  # no --store: the catalog's
                          env={"GEOPIPE_CATALOG": str(catalog_copy)})
    assert result.returncode == 2 and len(result.stderr_lines) == 1, result.stderr
    assert str(path) in result.stderr and "'isgi'" in result.stderr and "store" in result.stderr
    assert not (tmp_path / "outside.zarr").exists()


def test_a_catalog_path_through_a_symlink_out_of_the_root_is_refused(root, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(StoreError, match="escapes the data root"):
        safe_child(root, "link/isgi.zarr")
    assert safe_child(root, "stores/isgi.zarr") == str(root / "stores" / "isgi.zarr")


# ----------------------------------------------------------------------------- models


def test_a_model_with_python_code_in_a_lambda_layer_is_refused(tmp_path):
    import keras

    from geopipe.models.io import load_keras_model

    marker = tmp_path / "code-ran"

    def build():
        inputs = keras.Input(shape=(2,))
        # the lambda's body writes a file: proof that code from the model file ran (the path is
        # a constant of its code object, which Keras marshals into the file)
        touch = eval(f"lambda x: (open({str(marker)!r}, 'w').close(), x)[1]")
        outputs = keras.layers.Lambda(touch)(inputs)
        return keras.Model(inputs, outputs)

    folder = tmp_path / "model"
    folder.mkdir()
    build().save(folder / "model.keras")
    marker.unlink()
    # without safe mode Keras would run it (so this model really carries code)
    keras.saving.load_model(folder / "model.keras", safe_mode=False, compile=False)
    assert marker.exists()
    marker.unlink()
    with pytest.raises((ValueError, GeopipeError), match="(?i)lambda|safe_mode|arbitrary code"):
        load_keras_model(folder)
    assert not marker.exists()


# ----------------------------------------------------------------------------- services


def test_serve_binds_loopback_by_default(tmp_path, monkeypatch):
    from geopipe.cli import serve_cmd
    from geopipe.serve import LocalPrefect, free_port

    parser = argparse.ArgumentParser()
    serve_cmd.register(parser.add_subparsers(dest="command"))
    assert parser.parse_args(["serve"]).host == "127.0.0.1"
    prefect = LocalPrefect(tmp_path / "home")
    assert prefect.host == "127.0.0.1" and prefect.api_url.startswith("http://127.0.0.1:")
    spawned = []

    class Exited:
        def poll(self):
            return 1

    def spawn(name, args):
        spawned.append(args)
        return Exited()

    monkeypatch.setattr(prefect, "_spawn", spawn)
    with pytest.raises(GeopipeError, match="exited"):
        prefect.start_server(timeout=5)
    args = spawned[0]
    assert args[args.index("--host") + 1] == "127.0.0.1"
    port = free_port()
    assert 0 < port < 65536


def test_the_sample_file_server_listens_on_loopback_only(tmp_path):
    from geopipe.sample.server import FileServer

    with FileServer(tmp_path) as srv:
        assert srv.url.startswith("http://127.0.0.1:")


# ----------------------------------------------------------------------------- secrets and S3

# assembled so that this file does not match itself
SECRETS = {
    "AWS access key id": re.compile("AKIA" + "[0-9A-Z]{16}"),
    "AWS secret key": re.compile("(?i)aws_secret_access_key" + r"""["']?\s*[:=]\s*["']?[A-Za-z0-9/+]{40}"""),
    "private key": re.compile("-----BEGIN " + "(RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----"),
}


def test_no_credentials_in_the_repository():
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, check=True).stdout.split(b"\0")
    found, scanned = [], 0
    for name in filter(None, listed):
        path = ROOT / os.fsdecode(name)
        if not path.is_file() or path.stat().st_size > 20 * 2**20:
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:  # binary (GRIB, NetCDF, Zarr chunks)
            continue
        scanned += 1
        text = data.decode("utf-8", "replace")
        found += [f"{path.relative_to(ROOT)}: {kind}" for kind, pattern in SECRETS.items() if pattern.search(text)]
    assert scanned > 100  # the scan saw the repository
    assert not found, found


def test_every_s3_remote_is_anonymous_by_default():
    sources = yaml.safe_load((geopipe.catalog.DEFAULT_DIR / "sources.yaml").read_text())
    s3 = [(name, r) for name, src in sources.items() for r in src.get("remote", []) if r["url"].startswith("s3://")]
    assert len(s3) >= 3  # GFS and both GOES buckets
    assert [name for name, r in s3 if (r.get("storage_options") or {}).get("anon") is not True] == []
    # and the readers pass those options on
    from geopipe.sources.gfs import remote_urls
    from geopipe.sources.goes import _remote_options

    urls, options = remote_urls("2024-09-26T00", [0], "aws")
    assert urls[0].startswith("s3://noaa-gfs-bdp-pds/") and options.get("anon") is True
    assert _remote_options("s3://noaa-goes16/ABI-L2-CMIPF/2024/270/00/x.nc", None).get("anon") is True
