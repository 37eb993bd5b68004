"""Progress of long operations: a bar on a terminal, periodic lines elsewhere, artifacts in Prefect.

One :class:`Progress` per operation, updated once per file, time block, chunk or epoch::

    with progress.Progress("ingest gfs", total=len(files), unit="files", total_bytes=size) as bar:
        for path in files:
            ...
            bar.update(1, nbytes=os.path.getsize(path))

How it shows (:func:`mode`): ``bar`` redraws one line on stderr when stderr is a terminal;
``lines`` prints a plain line at most every :data:`LINE_EVERY` seconds (and at the end) when
it is not (CI logs, ``make demo | tee``), for operations of more than one unit; ``off`` shows nothing (``geopipe --quiet``, or
``GEOPIPE_PROGRESS=off``).  Inside a Prefect flow or task run a progress artifact is created
as well and updated as the work goes (at most every :data:`ARTIFACT_EVERY` seconds), so the
run's page shows how far it is.  Nothing here ever fails the work it reports on.

:func:`dask_progress` counts finished Dask tasks of a local ``compute`` as the operation's
units (time steps of labels, samples of patches); :func:`keras_epochs` is a Keras callback.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time

log = logging.getLogger(__name__)

MODES = ("auto", "bar", "lines", "off")
LINE_EVERY = 10.0       #: seconds between plain progress lines
BAR_EVERY = 0.1         #: seconds between redraws of the bar
ARTIFACT_EVERY = 2.0    #: seconds between Prefect progress-artifact updates
BAR_WIDTH = 28
_mode: str | None = None


def configure(mode: str | None) -> None:
    """Set the display mode for this process (None: back to ``$GEOPIPE_PROGRESS`` or ``auto``)."""
    global _mode
    if mode is not None and mode not in MODES:
        raise ValueError(f"progress mode {mode!r}: choose one of {', '.join(MODES)}")
    _mode = mode


def mode(stream=None) -> str:
    """``bar``, ``lines`` or ``off`` for ``stream`` (default stderr)."""
    chosen = _mode or os.environ.get("GEOPIPE_PROGRESS", "auto")
    if chosen not in MODES:
        chosen = "auto"
    if chosen != "auto":
        return chosen
    stream = stream or sys.stderr
    try:
        return "bar" if stream.isatty() else "lines"
    except (AttributeError, ValueError):
        return "lines"


def human_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000.0
    return f"{n:.1f} TB"  # pragma: no cover


def human_seconds(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


def _prefect_run() -> bool:
    """True inside a Prefect flow or task run (never imports Prefect itself)."""
    if "prefect.context" not in sys.modules:
        return False
    try:
        from prefect.context import FlowRunContext, TaskRunContext

        return bool(TaskRunContext.get() or FlowRunContext.get())
    except Exception:
        return False


class Progress:
    """Progress of one operation: ``total`` units (files, time steps, samples, epochs) and bytes."""

    def __init__(self, desc: str, total: int | None, unit: str = "items", total_bytes: int | None = None,
                 stream=None, display: str | None = None):
        self.desc, self.total, self.unit, self.total_bytes = desc, total, unit, total_bytes
        self.stream = stream or sys.stderr
        self.display = display or mode(self.stream)
        self.done, self.nbytes, self.note = 0, 0, ""
        self.started = time.monotonic()
        self._drawn = self._lined = self._pushed = 0.0
        self._artifact = None
        self._closed = False
        self._last_done = 0
        if self.display == "lines" and total is not None and total <= 1:
            self.display = "off"  # "1/1 files" tells nothing the result does not (one task per file in flows)
        if _prefect_run() and (total is None or total > 1):
            self._artifact = self._create_artifact()
        self._show(force=True)

    # -- the public calls -----------------------------------------------------------------
    def update(self, n: int = 1, nbytes: int = 0, note: str | None = None) -> None:
        """``n`` more units done (and ``nbytes`` more bytes); ``note`` names the last one."""
        self.done += n
        self.nbytes += nbytes
        if note is not None:
            self.note = note
        self._show()

    def set(self, done: int, note: str | None = None) -> None:
        """Units done so far (absolute), for callers that count themselves."""
        self.update(done - self.done, note=note)

    def close(self, failed: bool = False) -> None:
        """Draw the final state; after a failure only clear the bar (the error gets the line)."""
        if self._closed:
            return
        self._closed = True
        if failed:
            if self.display == "bar":
                with contextlib.suppress(OSError, ValueError):
                    self.stream.write("\r\x1b[2K")
                    self.stream.flush()
            return
        self._show(force=True, final=True)

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.close(failed=exc_type is not None)

    # -- drawing ----------------------------------------------------------------------------
    @property
    def fraction(self) -> float | None:
        return min(1.0, self.done / self.total) if self.total else None

    def text(self) -> str:
        """``12/30 files (40%), 45.2/120.0 MB, 00:12 elapsed, 00:18 left: NAME``."""
        elapsed = time.monotonic() - self.started
        parts = [f"{self.done}/{self.total} {self.unit}" if self.total is not None else f"{self.done} {self.unit}"]
        if self.fraction is not None:
            parts[0] += f" ({self.fraction:.0%})"
        if self.nbytes or self.total_bytes:
            parts.append(human_bytes(self.nbytes) + (f"/{human_bytes(self.total_bytes)}" if self.total_bytes else ""))
        parts.append(f"{human_seconds(elapsed)} elapsed")
        if self.fraction and self.fraction < 1:
            parts.append(f"{human_seconds(elapsed * (1 - self.fraction) / self.fraction)} left")
        return ", ".join(parts) + (f": {self.note}" if self.note else "")

    def _bar(self) -> str:
        f = self.fraction
        filled = int(round((f or 0) * BAR_WIDTH))
        cells = "#" * filled + "-" * (BAR_WIDTH - filled) if f is not None else "." * BAR_WIDTH
        return f"\r{self.desc} [{cells}] {self.text()}"[: _columns()]

    def _show(self, force: bool = False, final: bool = False) -> None:
        now = time.monotonic()
        try:
            if self.display == "bar" and (force or now - self._drawn >= BAR_EVERY):
                self.stream.write("\x1b[2K" + self._bar() + ("\n" if final else ""))
                self.stream.flush()
                self._drawn = now
            elif self.display == "lines" and self.done and (final or now - self._lined >= LINE_EVERY):
                if self.done != self._last_done:  # the final state is not printed twice
                    self.stream.write(f"{self.desc}: {self.text()}\n")
                    self.stream.flush()
                self._lined, self._last_done = now, self.done
            elif self.display == "lines" and not self._lined:
                self._lined = now  # the first line comes LINE_EVERY s after the start
        except (OSError, ValueError):  # a closed terminal never fails the work
            self.display = "off"
        if self._artifact is not None and (final or now - self._pushed >= ARTIFACT_EVERY):
            self._pushed = now
            self._update_artifact()

    # -- Prefect ----------------------------------------------------------------------------
    def _create_artifact(self):
        try:
            from prefect.artifacts import create_progress_artifact

            return create_progress_artifact(progress=0.0, description=f"{self.desc}: {self.unit}")
        except Exception as exc:  # the UI is a nicety; the work goes on
            log.debug("no progress artifact for %s: %s", self.desc, exc)
            return None

    def _update_artifact(self) -> None:
        try:
            from prefect.artifacts import update_progress_artifact

            percent = 100.0 * (self.fraction if self.fraction is not None else 0.0)
            update_progress_artifact(artifact_id=self._artifact, progress=percent,
                                     description=f"{self.desc}: {self.text()}")
        except Exception as exc:
            log.debug("progress artifact of %s not updated: %s", self.desc, exc)
            self._artifact = None


def _columns() -> int:
    try:
        return max(40, os.get_terminal_size(2).columns - 1)
    except OSError:
        return 160


@contextlib.contextmanager
def dask_progress(bar: Progress, units: int):
    """Advance ``bar`` by ``units`` in all as the Dask tasks of local computes inside finish.

    Works with Dask's local schedulers (threads, processes, synchronous); under a
    ``distributed`` client the bar only jumps to done at the end.
    """
    from dask.callbacks import Callback

    state = {"tasks": 0, "finished": 0, "base": bar.done}

    def start_state(dsk, st):
        state["tasks"] += len(st.get("ready", ())) + len(st.get("waiting", ())) + len(st.get("running", ()))

    def posttask(key, result, dsk, st, worker_id):
        state["finished"] += 1
        if state["tasks"]:
            bar.set(state["base"] + int(units * min(1.0, state["finished"] / state["tasks"])))

    with Callback(start_state=start_state, posttask=posttask):
        yield bar
    bar.set(state["base"] + units)


def keras_epochs(bar: Progress):
    """A Keras callback advancing ``bar`` one unit per epoch, with the losses as its note."""
    import keras

    class EpochProgress(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            note = ", ".join(f"{k} {v:.4g}" for k, v in logs.items() if k in ("loss", "val_loss"))
            bar.update(1, note=note)
            log.info("%s: epoch %d/%s %s", bar.desc, epoch + 1, bar.total, note)

    return EpochProgress()


def local_size(item) -> int:
    """Bytes of a local file (0 for a URL or what is not there): the ``nbytes`` of :func:`iterate`."""
    try:
        return os.path.getsize(item) if "://" not in str(item) else 0
    except OSError:
        return 0


def iterate(items, desc: str, unit: str, nbytes=None, total: int | None = None, total_bytes: int | None = None,
            name=None):
    """Yield ``items`` with a :class:`Progress`, one unit (and ``nbytes(item)`` bytes) as each is done.

    ``items`` may be any iterable (it is not read ahead): give ``total`` when it has no length.
    An item counts as done when the loop asks for the next one (also after ``continue``);
    ``name(item)`` is shown beside the bar (default: the item itself).
    """
    if total is None:
        items = list(items) if not hasattr(items, "__len__") else items
        total = len(items)
    if total_bytes is None and nbytes is not None and isinstance(items, (list, tuple)):
        sizes = [nbytes(i) for i in items]
        total_bytes = sum(sizes) if sizes and all(sizes) else None
    with Progress(desc, total, unit, total_bytes=total_bytes) as bar:
        for item in items:
            yield item
            bar.update(1, nbytes=nbytes(item) if nbytes else 0,
                       note=os.path.basename(str(name(item) if name else item)))


def over_files(pairs, files, desc: str):
    """:func:`iterate` for ``(path, ...)`` pairs made from the list ``files`` (counts files and bytes)."""
    sizes = [local_size(f) for f in files]
    return iterate(pairs, desc, "files", nbytes=lambda item: local_size(item[0]), total=len(files),
                   total_bytes=sum(sizes) if sizes and all(sizes) else None, name=lambda item: item[0])
