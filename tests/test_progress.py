"""Progress display: plain lines off a terminal, a redrawn bar on one, nothing when off; Dask and Keras hooks."""

from __future__ import annotations

import io

import dask.array as da
import numpy as np

from geopipe import progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_lines_mode_prints_plain_lines_and_a_final_one(monkeypatch):
    monkeypatch.setattr(progress, "LINE_EVERY", 0.0)
    clock = iter(range(0, 1000, 7))
    monkeypatch.setattr(progress.time, "monotonic", lambda: float(next(clock)))  # seconds pass between calls
    out = io.StringIO()
    with progress.Progress("ingest gfs", 3, "files", total_bytes=3000, stream=out) as bar:
        for _ in range(3):
            bar.update(1, nbytes=1000, note="f.grib2")
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("ingest gfs: 1/3 files (33%), 1.0 kB/3.0 kB, 00:")
    assert lines[-1].startswith("ingest gfs: 3/3 files (100%), 3.0 kB/3.0 kB")
    assert "\r" not in out.getvalue() and len(lines) == 3  # the final state is not printed twice


def test_bar_mode_redraws_one_line_and_off_prints_nothing(monkeypatch):
    monkeypatch.setattr(progress, "BAR_EVERY", 0.0)
    tty = _Tty()
    assert progress.mode(tty) == "bar"
    with progress.Progress("train unet", 4, "epochs", stream=tty) as bar:
        bar.update(2)
    text = tty.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n")
    assert "[##############--------------] 2/4 epochs (50%)" in text
    progress.configure("off")
    try:
        quiet = _Tty()
        with progress.Progress("x", 2, "files", stream=quiet) as bar:
            bar.update(2)
        assert quiet.getvalue() == ""
    finally:
        progress.configure(None)


def test_iterate_counts_items_done_also_after_continue():
    out = io.StringIO()
    seen = []
    for item in progress.iterate(["a", "b", "c"], "loop", "files"):
        if item == "b":
            continue
        seen.append(item)
    assert seen == ["a", "c"]
    bar = progress.Progress("loop", 3, "files", stream=out, display="lines")
    bar.set(3)
    bar.close()
    assert out.getvalue().startswith("loop: 3/3 files (100%)")


def test_dask_progress_advances_units_as_tasks_finish():
    out = io.StringIO()
    bar = progress.Progress("labels", 40, "time steps", stream=out, display="off")
    seen = []
    orig = bar.set
    bar.set = lambda done, note=None: (seen.append(done), orig(done, note))
    with progress.dask_progress(bar, 40):
        total = da.ones((40, 10), chunks=(4, 10)).sum().compute(scheduler="threads")
    assert float(total) == 400.0
    assert bar.done == 40 and seen == sorted(seen) and len(set(seen)) > 3  # it moved in steps, never back


def test_keras_callback_counts_epochs(monkeypatch):
    import keras

    out = io.StringIO()
    bar = progress.Progress("train mlp", 2, "epochs", stream=out, display="lines")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("adam", "mse")
    model.fit(np.zeros((8, 3)), np.zeros(8), epochs=2, verbose=0, callbacks=[progress.keras_epochs(bar)])
    bar.close()
    assert bar.done == 2 and "loss " in bar.note
    assert out.getvalue().splitlines()[-1].startswith("train mlp: 2/2 epochs (100%)")
