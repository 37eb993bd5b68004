"""How long a whole Kyoto SYM/ASY year (527,040 1-minute rows, bzip2) takes to ingest.

Compares ``geopipe ingest isgi SYM-2015.dat.txt.bz2`` (parse, checks, Zarr write) with the
floor a user would write by hand: decompress and ``pandas.read_csv`` the same file, no checks,
no store.  ``ratio`` = geopipe seconds / bare pandas seconds (lower is better; the goal is a
whole year in a few seconds).  Prints one JSON object as its last line.
"""

from __future__ import annotations

import bz2
import io
import json
import tempfile
import time
from pathlib import Path

import geopipe  # noqa: F401  (pyproj before eccodes)
import pandas as pd

from geopipe.ingest import ingest
from geopipe.sample import real


def bare_pandas(path: Path) -> int:
    text = bz2.decompress(path.read_bytes())
    df = pd.read_csv(io.BytesIO(text), sep=r"\s+", skiprows=15, header=None)
    pd.to_datetime(df[0] + "T" + df[1], format="ISO8601")
    return len(df)


def main() -> None:
    path = real("isgi", "kyoto_asysym_iaga2002", "SYM-2015.dat.txt.bz2")
    bare_pandas(path)  # warm the page cache and pandas
    start = time.perf_counter()
    rows = bare_pandas(path)
    pandas_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        store = str(Path(tmp) / "isgi.zarr")
        start = time.perf_counter()
        report = ingest("isgi", [str(path)], store, strict=True)
        ingest_s = time.perf_counter() - start
        start = time.perf_counter()
        again = ingest("isgi", [str(path)], store, strict=True)
        rerun_s = time.perf_counter() - start
    assert report.written == rows == 527040 and again.written == 0
    print(json.dumps({"benchmark": "isgi_ingest", "file": path.name, "rows": rows,
                      "geopipe_ingest_s": round(ingest_s, 3), "bare_pandas_read_s": round(pandas_s, 3),
                      "idempotent_rerun_s": round(rerun_s, 3), "ratio": round(ingest_s / pandas_s, 2)}))


if __name__ == "__main__":
    main()
