"""Small helpers shared by the CLI verbs."""

from __future__ import annotations

import json
import sys

from geopipe.parsing import csv_list, store_vars  # noqa: F401  (the verbs' shared forms)


def emit(obj, as_json: bool = False, text: str | None = None) -> None:
    """Print a result: JSON for scripts, else the given text (or the JSON, indented)."""
    if as_json:
        print(json.dumps(obj, default=str))
    else:
        print(text if text is not None else json.dumps(obj, indent=2, default=str))
    sys.stdout.flush()
