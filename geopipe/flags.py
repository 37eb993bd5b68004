"""Categorical variables as CF flags: small integers with ``flag_values`` and ``flag_meanings``.

A store never holds categories as variable-length strings (other Zarr readers and NetCDF
exports carry them badly, and numpy 2's ``StringDType`` does not ``astype(str)``).  The
catalog declares a product's categories (``flags: {0: train, 1: val, 2: test}``);
:func:`encode` turns labels into their codes on the way in, :func:`decode` (or
:func:`meanings`) turns codes back into labels for whoever reads the store.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from geopipe.errors import StoreError


def table(attrs: Mapping) -> dict[int, str]:
    """``{code: meaning}`` from a variable's ``flag_values`` / ``flag_meanings`` attributes."""
    values = attrs.get("flag_values")
    meanings = attrs.get("flag_meanings")
    if values is None or meanings is None:
        return {}
    values = np.atleast_1d(np.asarray(values)).tolist()
    words = str(meanings).split()
    if len(values) != len(words):
        raise StoreError(f"flag_values {values} and flag_meanings {words} differ in length")
    return {int(v): w for v, w in zip(values, words)}


def strings(values) -> np.ndarray:
    """Fixed-width, variable-length (numpy 2 ``StringDType``), object or byte strings as ``<U``."""
    return np.array([v.decode() if isinstance(v, bytes) else str(v) for v in np.asarray(values).ravel().tolist()],
                    dtype=str).reshape(np.shape(values))


def encode(var: xr.Variable, flags: Mapping[int, str], dtype: str = "uint8", where: str = "") -> xr.Variable:
    """Labels -> their flag codes (a label not in ``flags`` raises, naming ``where``)."""
    labels = strings(var.values)
    codes = {m: k for k, m in flags.items()}
    unknown = sorted(set(labels.ravel().tolist()) - set(codes))
    if unknown:
        raise StoreError(f"{where} holds {unknown}, not among its categories {list(codes)}")
    out = np.zeros(labels.shape, dtype=dtype)
    for label, code in codes.items():
        out[labels == label] = code
    attrs = dict(var.attrs)
    attrs["flag_values"] = sorted(flags)
    attrs["flag_meanings"] = " ".join(flags[k] for k in sorted(flags))
    return xr.Variable(var.dims, out, attrs)


def decode(var: xr.Variable | xr.DataArray) -> np.ndarray:
    """A flag variable's values as labels (``<U``); a string variable's values as ``<U``."""
    values = np.asarray(var.values)
    if values.dtype.kind in "OUST":
        return strings(values)
    meaning = table(var.attrs)
    if not meaning:
        raise StoreError(f"{getattr(var, 'name', '') or 'variable'} has neither flag_values nor strings")
    out = np.full(values.shape, "", dtype=f"<U{max(len(m) for m in meaning.values())}")
    for code, label in meaning.items():
        out[values == code] = label
    return out


def code(var: xr.Variable | xr.DataArray, label: str) -> int:
    """The code of ``label`` in a flag variable."""
    for k, m in table(var.attrs).items():
        if m == label:
            return k
    raise StoreError(f"{getattr(var, 'name', '') or 'variable'} has no category {label!r}")
