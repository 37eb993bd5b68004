"""Killed and concurrent ``geopipe ingest`` processes on real Kyoto/GFZ index files and IBTrACS tables.

The kill inputs are a real year of Kyoto 1-minute SYM/ASY (2017, 527,040 rows), the hourly Dst of
2000 and the Kp of 2009.  In that order of processing the store is created (Kp), rewritten
by a merge (Dst is earlier than what the store holds: ``store.replace``) and appended to
(the year: ``store.append``), so SIGKILLs land in all three kinds of write.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import zarr

from geopipe import store
from tests.reliability import corpus

VARIABLES = ("sym_h", "asy_h", "sym_d", "asy_d", "dst", "kp")
KILLS = 12


def _inputs(folder: Path, *names: str) -> list[Path]:
    """Copies of the real files, named so that the CLI (which sorts its inputs) takes them in this order."""
    real = {"kp": (corpus.KP, "1-kp2009.wdc"), "dst": (corpus.DST, "2-dst2000.txt"),
            "year": (corpus.KYOTO_YEAR, "3-sym2017.txt.bz2"), "month": (corpus.KYOTO_MONTH, "0-sym201709.txt.bz2")}
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name in names:
        src, dst = real[name]
        if not (folder / dst).exists():
            shutil.copy(src, folder / dst)
        out.append(folder / dst)
    return out


def _args(root: Path, inputs, name: str) -> list[str]:
    return ["--root", str(root), "ingest", "isgi", *map(str, inputs), "--store", name]


def _file_of(times: pd.DatetimeIndex) -> np.ndarray:
    """Which input each time comes from: the three files cover disjoint years."""
    return np.select([times.year == 2000, times.year == 2009], ["dst", "kp"], "year")


def assert_whole_files_of(ds: xr.Dataset, ref: xr.Dataset) -> str:
    """Every step ``ds`` shows equals the uninterrupted run's step, and each input is there whole or not at all.

    Returns the inputs the store holds (``"kp+dst"``)."""
    times = pd.DatetimeIndex(ds.time.values)
    assert not times.has_duplicates
    assert times.isin(ref.time.values).all(), "the store shows times the reference does not have"
    expected = ref.sel(time=times)
    for name in VARIABLES:
        np.testing.assert_array_equal(ds[name].values, expected[name].values, err_msg=name)
    ref_times = pd.DatetimeIndex(ref.time.values)
    have = pd.Series(_file_of(times)).value_counts()
    full = pd.Series(_file_of(ref_times)).value_counts()
    for name, n in have.items():
        assert n == full[name], f"{name}: {n} of its {full[name]} steps are in the store (a partial input)"
    return "+".join(name for name in ("kp", "dst", "year") if name in have) or "empty"


def _missing_arrays(path: Path) -> list[str]:
    """The store's arrays that are not there (a store half-written by ``store.create``)."""
    have = set(zarr.open_group(str(path), mode="r").array_keys())
    return [v for v in ("time", *VARIABLES) if v not in have]


def _clear(root: Path, name: str) -> None:
    for p in root.glob(f"{name}*"):
        shutil.rmtree(p)
    for p in root.glob(f".{name}.*"):
        shutil.rmtree(p) if p.is_dir() else p.unlink()


def _state_after_kill(path: Path, ref: xr.Dataset) -> str:
    """Check what a killed ingest left and say what it was (for the figures)."""
    leftovers = sorted(p.name for p in path.parent.glob(f".{path.name}.old-*"))
    if not store.exists(str(path)):
        if leftovers:  # killed between the two renames of a replace: the next writer (or repair) restores it
            store.repair(str(path))
            assert store.exists(str(path))
            return assert_whole_files_of(store.open_store(str(path)).load(), ref) + ", restored by repair"
        return "no store yet"
    missing = _missing_arrays(path)
    assert not missing, f"a half-created store (it lacks {missing}): the kill landed inside store.create"
    pending = store.PENDING in zarr.open_group(str(path), mode="r").attrs
    try:
        plain = xr.open_zarr(path, consolidated=False)
    except ValueError:
        assert pending, "plain xarray cannot open the store, and no journal says why"
        plain = None
    ds = store.open_store(str(path)).load()  # rolls a pending journal forward
    held = assert_whole_files_of(ds, ref)
    if plain is not None and not pending:  # what plain xarray shows is that same store
        assert plain.sizes == ds.sizes and (plain.time.values == ds.time.values).all()
    return held + (", journal rolled forward" if pending else "")


def test_ingest_killed_at_random_points_then_rerun_equals_an_uninterrupted_run(launcher, tmp_path, figures):
    inputs = _inputs(tmp_path / "in", "kp", "dst", "year")
    root = tmp_path / "root"
    reference = launcher.run(_args(root, inputs, "ref.zarr"))
    assert reference.returncode == 0, reference.stderr
    ref = store.open_store(str(root / "ref.zarr")).load()
    assert ref.sizes["time"] == 8784 + 2920 + 527040  # Dst 2000 hourly, Kp 2009 3-hourly, SYM 2017 + 2018-01-01
    rng = random.Random(20240511)
    path, finished, landed, states = root / "killed.zarr", True, 0, {}
    for _ in range(KILLS):
        if finished:  # start over, so the kills sample the whole run and not only its end
            _clear(root, path.name)
        run = launcher.start(_args(root, inputs, path.name))
        time.sleep(rng.uniform(0.02, 1.0) * reference.seconds)
        try:
            os.kill(run.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        result = launcher.wait(run)
        finished = result.returncode == 0
        landed += result.returncode == -signal.SIGKILL
        assert result.returncode in (0, -signal.SIGKILL), result.stderr
        state = _state_after_kill(path, ref)
        states[state] = states.get(state, 0) + 1
    assert landed >= 8, f"only {landed} of {KILLS} kills landed before the ingest ended"
    again = launcher.run(_args(root, inputs, path.name))
    assert again.returncode == 0, again.stderr
    final = xr.open_zarr(path, consolidated=False).load()
    xr.testing.assert_identical(final.drop_attrs(), ref.drop_attrs())
    for name in final.variables:
        assert final[name].attrs == ref[name].attrs, name
    hashes = {s["sha256"] for s in store.sources_of(str(path))}
    assert hashes == {s["sha256"] for s in store.sources_of(str(root / "ref.zarr"))}
    assert not list(root.glob(f".{path.name}.*-*")), "a killed writer's temporary store was left behind"
    figures["killed_ingest"] = {"attempts": KILLS, "landed_mid_run": landed, "states_after_kill": states,
                                "run_seconds": round(reference.seconds, 1), "steps": int(ref.sizes["time"])}


def test_ingest_killed_while_it_creates_the_store_can_be_rerun(launcher, tmp_path, figures):
    """Kills aimed at the first milliseconds of a store's life (while ``store.create`` writes it)."""
    inputs = _inputs(tmp_path / "in", "kp")
    root = tmp_path / "root"
    reference = launcher.run(_args(root, inputs, "ref.zarr"))
    assert reference.returncode == 0, reference.stderr
    ref = store.open_store(str(root / "ref.zarr")).load()
    rng, seen, bad = random.Random(7), {}, []
    for attempt in range(12):
        path = root / f"created{attempt}.zarr"
        run = launcher.start(_args(root, inputs, path.name))
        deadline = time.monotonic() + 60
        # the store, or the temporary folder a store is built in, appears: kill within 10 ms
        while not (path.exists() or any(root.glob(f".{path.name}.tmp-*"))) and time.monotonic() < deadline:
            time.sleep(0.0005)
        time.sleep(rng.uniform(0, 0.01))
        try:
            os.kill(run.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        launcher.wait(run)
        missing = []
        if not store.exists(str(path)):
            state = "no store"
        else:
            missing = _missing_arrays(path)
            state = "half-created store" if missing else assert_whole_files_of(store.open_store(str(path)).load(), ref)
        seen[state] = seen.get(state, 0) + 1
        again = launcher.run(_args(root, inputs, path.name))
        if missing or again.returncode != 0:
            bad.append(f"attempt {attempt}: left {state} (it lacks {missing}); the re-run exited {again.returncode}: "
                       f"{(again.stderr_lines or [''])[-1]}")
            continue
        xr.testing.assert_identical(xr.open_zarr(path, consolidated=False).load().drop_attrs(), ref.drop_attrs())
        assert not list(root.glob(f".{path.name}.*-*")), "a killed writer's temporary folder was left behind"
    figures["killed_while_creating"] = {"attempts": 12, "states_after_kill": seen, "unrecoverable": len(bad)}
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("first, second", [(("month", "kp"), ("month", "dst")),
                                           (("month", "kp", "dst"), ("month", "kp", "dst"))],
                         ids=["overlapping", "identical"])
def test_two_concurrent_ingests_into_one_store_equal_one_ingest_of_all_files(launcher, tmp_path, first, second):
    folder, root = tmp_path / "in", tmp_path / "root"
    union = _inputs(folder, *dict.fromkeys(first + second))
    reference = launcher.run(_args(root, union, "ref.zarr"))
    assert reference.returncode == 0, reference.stderr
    runs = [launcher.start(_args(root, _inputs(folder, *names), "shared.zarr")) for names in (first, second)]
    results = [launcher.wait(run) for run in runs]
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    ref = store.open_store(str(root / "ref.zarr")).load()
    shared = xr.open_zarr(root / "shared.zarr", consolidated=False).load()
    assert not pd.Index(shared.time.values).has_duplicates
    xr.testing.assert_identical(shared.drop_attrs(), ref.drop_attrs())


def test_two_concurrent_ibtracs_ingests_keep_the_storms_of_both_files(launcher, tmp_path):
    """IBTrACS writes rewrite the whole table (``store.replace``): neither writer may drop the other's storms.

    The race is a matter of timing, so it is run three times (in both start orders)."""
    root = tmp_path / "root"
    files = [corpus.IBTRACS_CSV, corpus.REAL / "ibtracs" / "ibtracs.ACTIVE.list.v04r01.csv"]
    reference = launcher.run(["--root", str(root), "ingest", "ibtracs", *map(str, files), "--store", "ref.zarr"])
    assert reference.returncode == 0, reference.stderr
    ref = store.open_store(str(root / "ref.zarr")).load()
    for round_, order in enumerate((files, files[::-1], files)):
        name = f"shared{round_}.zarr"
        runs = [launcher.start(["--root", str(root), "ingest", "ibtracs", str(f), "--store", name]) for f in order]
        results = [launcher.wait(run) for run in runs]
        assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
        shared = xr.open_zarr(root / name, consolidated=False).load()
        assert sorted(set(shared.sid.values)) == sorted(set(ref.sid.values)), f"round {round_}: storms lost"
        xr.testing.assert_identical(shared.drop_attrs(), ref.drop_attrs())
