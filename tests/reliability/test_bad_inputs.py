"""Bad inputs: one clear line on stderr, a non-zero exit, and nothing of them in any store.

The corpus (tests/reliability/corpus.py) is built from the real bundled samples.  Every
command runs as its own process (tests/reliability/launcher.py), so what is checked is what
a user sees: the exit status and the bytes written to file descriptors 1 and 2.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import xarray as xr

from geopipe import store
from tests.reliability import corpus
from tests.reliability.launcher import ROOT, Result

PREFIX = "geopipe: error: "


def problems_with(case: corpus.Case, result: Result) -> list[str]:
    """What is wrong with how ``geopipe ingest`` answered ``case`` (empty: it answered well)."""
    out = []
    lines = result.stderr_lines
    if result.returncode <= 0:
        out.append(f"exit status {result.returncode} (expected > 0)")
    if "Traceback" in result.stderr + result.stdout:
        out.append("a Python traceback was printed")
    if len(lines) != 1:
        out.append(f"{len(lines)} lines on stderr (expected 1): {lines[:4]}")
    line = lines[0] if lines else ""
    if not line.startswith(PREFIX):
        out.append(f"the line does not start with {PREFIX!r}: {line!r}")
    where = f"{case.path}:{case.line}:" if case.line else f"{case.path}:"
    if where not in line:
        out.append(f"the line does not name {where!r}: {line!r}")
    missing = [w for w in case.expect if w not in line]
    if missing:
        out.append(f"the line does not say {missing}: {line!r}")
    return out


def tree(path: Path) -> dict[str, str]:
    """Every file under ``path`` -> sha256 of its bytes (a store's complete state)."""
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file()}


def ingest_args(root: Path, source: str, inputs, store_name: str, *extra: str) -> list[str]:
    return ["--root", str(root), "ingest", source, *map(str, inputs), "--store", store_name, *extra]


def good_inputs(folder: Path) -> dict[str, list[Path]]:
    """Real inputs that ingest cleanly, per source (the GFS one is a byte-exact message of the real file)."""
    folder.mkdir(parents=True, exist_ok=True)
    pwat = folder / "good-pwat.grib2"
    pwat.write_bytes(corpus.grib_message("pwat", "atmosphereSingleLayer"))
    omni = folder / "good-omni.csv"
    omni.write_bytes(b"\n".join(corpus.OMNI_SWVO.read_bytes().split(b"\n")[:500]) + b"\n")
    return {"gfs": [pwat], "goes": [corpus.GOES_C13], "ibtracs": [corpus.IBTRACS_CSV],
            "isgi": [corpus.KYOTO_MONTH, corpus.KP, corpus.DST], "omni": [omni]}


def test_every_bad_input_fails_with_one_line_naming_file_and_problem(launcher, bad_inputs, tmp_path, figures):
    root = tmp_path / "root"
    results = launcher.run_many([ingest_args(root, c.source, [c.path], f"{c.name}.zarr") for c in bad_inputs])
    found = {c.name: problems_with(c, r) for c, r in zip(bad_inputs, results)}
    failures = {name: msgs for name, msgs in found.items() if msgs}
    # nothing was published: no store, and no lock file beside a store that was never made
    left = [p.name for p in root.iterdir()] if root.exists() else []
    if left:
        failures["data root"] = [f"holds {left} after bad inputs only"]
    seconds = [r.seconds for r in results]
    figures["bad_inputs"] = {"tried": len(bad_inputs), "by_source": dict(Counter(c.source for c in bad_inputs)),
                             "failed": len(failures), "max_seconds": round(max(seconds), 2)}
    assert not failures, "\n".join(f"{name}: {'; '.join(msgs)}" for name, msgs in failures.items())


def test_a_bad_input_leaves_an_existing_store_unchanged(launcher, bad_inputs, tmp_path):
    root = tmp_path / "root"
    for source, files in good_inputs(tmp_path / "good").items():
        assert launcher.run(ingest_args(root, source, files, f"{source}.zarr")).returncode == 0
    changed = {}
    for case in bad_inputs:
        path = root / f"{case.source}.zarr"
        before = tree(path)
        result = launcher.run(ingest_args(root, case.source, [case.path], path.name))
        after = tree(path)
        if result.returncode <= 0 or after != before:
            diff = sorted(set(after.items()) ^ set(before.items()))
            changed[case.name] = f"exit {result.returncode}, changed files {[name for name, _ in diff][:6]}"
    assert not changed, "\n".join(f"{name}: {msg}" for name, msg in changed.items())


BATCHES = {  # source -> names of bad cases put in its folder beside the good files
    "isgi": ["isgi-iaga2002-broken-header", "isgi-iaga2002-duplicate-times", "isgi-iaga2002-non-numeric",
             "isgi-cut-bzip2-download", "isgi-wdc-dst-bad-value", "isgi-empty"],
    "goes": ["goes-missing-projection", "goes-corrupt-header", "goes-truncated", "goes-empty"],
    "gfs": ["gfs-truncated-mid-message", "gfs-polar-stereographic-grid", "gfs-reduced-gaussian-grid", "gfs-empty",
            "gfs-group-width-31"],
}


def test_a_batch_quarantines_the_bad_files_and_ingests_the_good_ones(launcher, bad_inputs, tmp_path, figures):
    cases = {c.name: c for c in bad_inputs}
    good = good_inputs(tmp_path / "good")
    root = tmp_path / "root"
    quarantined = {}
    for source, names in BATCHES.items():
        folder = tmp_path / f"batch-{source}"
        folder.mkdir()
        good_copies = [Path(shutil.copy(f, folder / f"good-{i}-{f.name}")) for i, f in enumerate(good[source])]
        bad = {folder / cases[n].path.name: cases[n] for n in names}
        for path, case in bad.items():
            shutil.copy(case.path, path)
        result = launcher.run(ingest_args(root, source, [folder], f"batch-{source}.zarr", "--json"))
        # the exit status says something was quarantined; the report lists every bad file
        assert result.returncode == 1, result.stderr
        report = json.loads(result.stdout.strip().splitlines()[-1])
        assert report["files"] == len(good_copies)
        assert sorted(q["path"] for q in report["quarantined"]) == sorted(map(str, bad))
        # one JSON record per bad file under <root>/quarantine/<source>/, with the reason and the file's hash
        records = [json.loads(p.read_text()) for p in (root / "quarantine" / source).glob("*.json")]
        assert sorted(r["path"] for r in records) == sorted(map(str, bad))
        for record in records:
            case = bad[Path(record["path"])]
            assert record["source"] == source
            assert all(w in record["reason"] for w in case.expect), record
            assert record["sha256"] == hashlib.sha256(Path(record["path"]).read_bytes()).hexdigest()
        # the store holds exactly what an ingest of the good files alone gives
        ref = launcher.run(ingest_args(root, source, good_copies, f"good-{source}.zarr"))
        assert ref.returncode == 0, ref.stderr
        batch_ds = store.open_store(str(root / f"batch-{source}.zarr")).load()
        good_ds = store.open_store(str(root / f"good-{source}.zarr")).load()
        xr.testing.assert_identical(batch_ds.drop_attrs(), good_ds.drop_attrs())
        for name in good_ds.variables:
            assert batch_ds[name].attrs == good_ds[name].attrs, name
        hashes = {s["sha256"] for s in store.sources_of(str(root / f"batch-{source}.zarr"))}
        assert hashes == {s["sha256"] for s in store.sources_of(str(root / f"good-{source}.zarr"))}
        assert not hashes & {hashlib.sha256(p.read_bytes()).hexdigest() for p in bad}
        quarantined[source] = len(records)
    figures["batches"] = {"quarantined": quarantined, "good_files": {s: len(good[s]) for s in BATCHES}}


def geopipe_executable() -> list[str]:
    exe = Path(sys.executable).with_name("geopipe")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "geopipe.cli"]


def test_the_geopipe_executable_answers_like_a_launcher_child(launcher, bad_inputs, tmp_path, figures):
    """The launcher's children stand for the real command: same exit status, same output."""
    cases = [c for c in bad_inputs if c.name == "isgi-iaga2002-non-numeric"]
    startup = []
    for case in cases:
        args = ingest_args(tmp_path / "root", case.source, [case.path], "s.zarr")
        t0 = time.monotonic()
        real = subprocess.run(geopipe_executable() + args, cwd=ROOT, capture_output=True, text=True, timeout=300,
                              check=False)
        startup.append(time.monotonic() - t0)
        child = launcher.run(args)
        assert (real.returncode, real.stdout, real.stderr) == (child.returncode, child.stdout, child.stderr)
        assert not problems_with(case, child)
    figures["cli_seconds_per_bad_input"] = round(max(startup), 1)
