"""IAGA-2002 exchange format: observatory data and the Kyoto/ISGI index files.

A file is a header of 70-character records ending in ``|`` (``Key   value   |``, comments
start with `` #``), a column line (``DATE TIME DOY NAME... |``) and fixed rows::

    2017-09-01 00:00:00.000 244        13.00     12.00      2.00    -12.00

Values 99999 (missing) and 88888 (not observed, e.g. an unused NUL channel) become NaN.
Repeated column names (``BOUNUL BOUNUL``) get a suffix: ``BOUNUL``, ``BOUNUL_2``.
The table is read in one vectorised pass (a year of 1-minute rows parses in under a second);
any problem raises ``InputError(path, problem, line)``.
"""

from __future__ import annotations

import dataclasses
import io
import re

import numpy as np

from geopipe.errors import InputError
from geopipe.sources.timeseries import Lines, check_numeric, check_times
from geopipe.lazy import lazy_import

pd = lazy_import("pandas")

FILL_VALUES = (99999.0, 88888.0)
_DATA_ROW = re.compile(r"^\d{4}-\d{2}-\d{2}\s+\d{2}:\d{2}")
#: a header longer than this is not IAGA-2002
MAX_HEADER_LINES = 200


@dataclasses.dataclass
class IAGA2002:
    """One parsed file.

    ``header``   ``{"Format": "IAGA-2002", "IAGA CODE": "BOU", ...}`` (keys as written)
    ``comments`` the `` # ...`` header comment lines, without the ``#``
    ``data``     float64 DataFrame, one column per reported element (DOY dropped), indexed
                 by a ``DatetimeIndex`` named ``time`` (UTC, naive); fill values are NaN
    ``lines``    :class:`~geopipe.sources.timeseries.Lines`: ``lines.number(i)`` is row i's file line
    """

    header: dict[str, str]
    comments: list[str]
    data: pd.DataFrame
    lines: Lines


def looks_like(raw: bytes) -> bool:
    """True when ``raw`` starts like an IAGA-2002 file (a ``Format IAGA-2002`` header record)."""
    head = raw[:400].lstrip().lower()
    return head.startswith(b"format") and b"iaga-2002" in head[:80]


def _split_header(path: str, lines: list[bytes]) -> tuple[dict[str, str], list[str], list[str], int]:
    header: dict[str, str] = {}
    comments: list[str] = []
    for i, line in enumerate(lines[:MAX_HEADER_LINES]):
        text = line.decode("ascii", "replace").rstrip("\r\n")
        body = text.rstrip()
        if body.startswith("DATE"):
            names = body.rstrip("|").split()
            if names[:3] != ["DATE", "TIME", "DOY"] or len(names) < 4:
                raise InputError(path, f"column line {body!r} does not start with DATE TIME DOY and a value column", line=i + 1)
            return header, comments, names, i + 1
        if _DATA_ROW.match(body):
            raise InputError(path, "a data row comes before the column line (DATE TIME DOY ...): the header has no column line", line=i + 1)
        if not body.endswith("|"):
            raise InputError(path, f"header record does not end in '|': {body[:60]!r}", line=i + 1)
        content = body[:-1].strip()
        if content.startswith("#"):
            comments.append(content[1:].strip())
            continue
        # keys are up to 23 columns wide and may hold spaces ("IAGA CODE"); values follow
        key, value = content[:23].strip(), content[23:].strip()
        if not key:
            raise InputError(path, f"header record without a key: {body[:60]!r}", line=i + 1)
        header[key] = value
    raise InputError(path, f"no column line (DATE TIME DOY ...) in the first {MAX_HEADER_LINES} lines: not IAGA-2002")


def _unique(names: list[str]) -> list[str]:
    out, seen = [], {}
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}_{seen[n]}")
    return out


def read(path: str, raw: bytes) -> IAGA2002:
    """Parse the (decompressed) bytes ``raw`` of the IAGA-2002 file ``path``."""
    head_lines = raw[: 200 * 100].split(b"\n")
    header, comments, names, n_head = _split_header(path, head_lines)
    if "Format" in header and "IAGA-2002" not in header["Format"].upper():
        raise InputError(path, f"header says Format {header['Format']!r}, not IAGA-2002", line=1)
    columns = _unique(names[3:])
    offset = sum(len(ln) + 1 for ln in head_lines[:n_head])
    body = raw[offset:]
    try:
        df = pd.read_csv(io.BytesIO(body), sep=r"\s+", header=None, names=["DATE", "TIME", "DOY"] + columns,
                         dtype={"DATE": str, "TIME": str}, skip_blank_lines=True, engine="c")
    except pd.errors.ParserError as exc:  # "Expected 7 fields in line 12, saw 8"
        msg = str(exc).strip().splitlines()[-1]
        line = None
        if " line " in msg:
            try:
                line = n_head + int(msg.split(" line ")[1].split(",")[0])
            except ValueError:
                pass
        raise InputError(path, f"a row has more fields than the {len(columns) + 3} columns named ({msg})", line=line) from None
    except pd.errors.EmptyDataError:
        raise InputError(path, "no data rows after the header", line=n_head) from None
    if df.empty:
        raise InputError(path, "no data rows after the header", line=n_head)
    # read_csv skips blank lines: number the rows the same way (numpy, no loop per row)
    lines = Lines(raw, comment=None, skip=n_head)
    line_of = lines.number
    short = np.flatnonzero(df[columns[-1]].isna().to_numpy())
    if len(short):
        raise InputError(path, f"a row has fewer than the {len(columns) + 3} columns named", line=line_of(int(short[0])))
    stamp = df["DATE"].str.cat(df["TIME"], sep="T")
    times = pd.to_datetime(stamp, format="ISO8601", errors="coerce")
    bad = np.flatnonzero(times.isna().to_numpy())
    if len(bad):
        raise InputError(path, f"bad DATE/TIME {stamp.iloc[bad[0]]!r}", line=line_of(int(bad[0])))
    index = pd.DatetimeIndex(times, name="time")
    check_times(index, path, line_of)
    values = check_numeric(df, columns, path, line_of)
    values = values.mask(values.isin(FILL_VALUES))
    values.index = index
    return IAGA2002(header=header, comments=comments, data=values, lines=lines)
