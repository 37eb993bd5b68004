"""One input's bytes with the service's token added: the fetch the index and solar-wind readers share."""

from __future__ import annotations

from geopipe.errors import RemoteError
from geopipe.sources import timeseries, tokens


def read_bytes(path: str, storage_options: dict | None = None) -> tuple[bytes, dict]:
    """:func:`geopipe.sources.timeseries.read_bytes`, with the token a URL needs (ISGI's ``ws``)
    added to the request only; a refused token is a :class:`~geopipe.sources.tokens.TokenError`."""
    options = tokens.storage_options(path, storage_options)
    try:
        raw, record = timeseries.read_bytes(path, options)
    except RemoteError as exc:
        refused = tokens.refused(path, exc)
        if refused:
            raise refused from exc
        raise
    return raw, record
