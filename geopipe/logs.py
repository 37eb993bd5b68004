"""Where messages go: the user's terminal, the debug log, and what native libraries print.

TensorFlow (absl), and eccodes write their own lines straight to file descriptor 2 from C++
and C: ``oneDNN custom operations are on``, ``All log messages before absl::InitializeLog()``,
``ECCODES ERROR : ...``.  Python's logging never sees them, and TF_CPP_MIN_LOG_LEVEL no
longer silences them under TF 2.21.  :func:`capture_native_stderr` therefore points fd 2 at
a pipe read by a thread: lines of those libraries go to the ``geopipe.native`` logger at
DEBUG (the debug log), every other line reaches the terminal unchanged.  Python's own
``sys.stderr`` is re-opened on the terminal, so geopipe's messages and progress bars never
pass through the pipe.  Child processes (Dask workers) inherit the pipe, so their native
lines are sorted the same way.

:func:`setup` is what the ``geopipe`` command calls: ``--quiet`` shows errors only,
``--verbose`` INFO, ``--debug`` everything, native lines included, on the terminal.
Without ``--debug`` the DEBUG records go to the debug log file, :func:`debug_log_path`.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import sys
import threading

#: the lines of native libraries that are noise for a user (TensorFlow/absl, eccodes)
NATIVE_NOISE = re.compile(
    r"^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w./-]+:\d+\]"           # absl C++: I0000 00:00:17.5  9050 port.cc:153]
    r"|WARNING: All log messages before absl::InitializeLog\(\)"
    r"|To enable the following instructions: .* rebuild TensorFlow"
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] (?:tensorflow|external|xla)/"  # older TF C++ format
    r"|(?:WARNING|INFO|ERROR|DEBUG):(?:absl|tensorflow|h5py)[:.]"          # absl/TF Python, unconfigured
    r"|ECCODES (?:ERROR|WARNING|INFO|DEBUG)\b)")
#: Python loggers of libraries whose records belong in the debug log only
LIBRARY_LOGGERS = ("tensorflow", "absl", "h5py")
DEBUG_LOG_ENV = "GEOPIPE_DEBUG_LOG"

native_log = logging.getLogger("geopipe.native")
_capture: "_StderrPipe | None" = None


def debug_log_path() -> str | None:
    """``$GEOPIPE_DEBUG_LOG``, else ``<data root>/logs/debug.log`` for a local root (None for a URL root)."""
    if os.environ.get(DEBUG_LOG_ENV):
        return os.environ[DEBUG_LOG_ENV]
    from geopipe.config import data_root, is_url

    root = data_root()
    return None if is_url(root) else os.path.join(root, "logs", "debug.log")


class _DelayedFile(logging.FileHandler):
    """A file handler that makes the log's folder only when the first record comes."""

    def _open(self):
        os.makedirs(os.path.dirname(os.path.abspath(self.baseFilename)), exist_ok=True)
        return super()._open()


class _StderrPipe:
    """fd 2 -> a pipe; a thread sorts its lines into the debug log or the real stderr."""

    def __init__(self) -> None:
        sys.stderr.flush()
        self.terminal = os.dup(2)
        read, write = os.pipe()
        os.dup2(write, 2)
        os.close(write)
        self.read = read
        # Python's writes go to the terminal directly (ordering with stdout, no thread in the way)
        self.stream = open(os.dup(self.terminal), "w", buffering=1, encoding="utf-8", errors="replace")
        self.saved_stderr = sys.stderr
        sys.stderr = self.stream
        self.thread = threading.Thread(target=self._pump, name="geopipe-stderr", daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        with open(self.read, "rb", buffering=0) as pipe:
            pending = b""
            while chunk := pipe.read(65536):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    self._route(line)
            if pending:
                self._route(pending)

    def _route(self, raw: bytes) -> None:
        line = raw.decode("utf-8", "replace").rstrip("\r")
        if NATIVE_NOISE.search(line):
            native_log.debug("%s", line)
        else:
            os.write(self.terminal, raw + b"\n")

    def close(self) -> None:
        try:
            self.stream.flush()
            os.dup2(self.terminal, 2)  # our end of the pipe closes: the thread drains and ends
        except OSError:
            return
        self.thread.join(timeout=2)
        sys.stderr = self.saved_stderr


def capture_native_stderr() -> None:
    """Sort native libraries' stderr lines into the debug log (see the module docstring); idempotent."""
    global _capture
    if _capture is None:
        try:
            _capture = _StderrPipe()
        except OSError:  # no fd 2 (a daemon): nothing to sort
            return
        atexit.register(release_native_stderr)


def release_native_stderr() -> None:
    global _capture
    if _capture is not None:
        _capture.close()
        _capture = None


def setup(quiet: bool = False, verbose: bool = False, debug: bool = False) -> None:
    """Configure logging for the ``geopipe`` command (see the module docstring).

    Call it before TensorFlow or eccodes are imported, so their first lines are sorted too.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0" if debug else "2")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    level = logging.DEBUG if debug else logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING
    root = logging.getLogger()
    root.setLevel(min(level, logging.INFO))
    logging.getLogger("geopipe").setLevel(logging.DEBUG)
    terminal = logging.StreamHandler()  # sys.stderr at emit time: the terminal, also after the capture
    terminal.setLevel(level)
    terminal.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.handlers[:] = [terminal]
    path = None if debug else debug_log_path()
    debug_file = _DelayedFile(path, delay=True, encoding="utf-8") if path else logging.NullHandler()
    debug_file.setLevel(logging.DEBUG)
    debug_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(debug_file)
    # geopipe's records keep these handlers when Prefect's logging config (applied when a flow is
    # imported) replaces the root's; Prefect adds its API handler beside them (extra loggers)
    own = logging.getLogger("geopipe")
    own.handlers[:] = [h for h in own.handlers if type(h).__name__ == "APILogHandler"] + [terminal, debug_file]
    own.propagate = False
    for name in ("distributed", "asyncio", "urllib3", "fsspec", "matplotlib", "PIL", "botocore", "numcodecs",
                 "httpx", "httpcore", "aiosqlite", "filelock"):
        logging.getLogger(name).setLevel(logging.INFO if debug else logging.WARNING)
    if debug:
        return
    # off the terminal for good: Prefect's logging config, applied when a flow is imported,
    # replaces the root handlers but leaves these loggers as they are
    for name in (*LIBRARY_LOGGERS, native_log.name):
        lib = logging.getLogger(name)
        lib.handlers[:] = [debug_file]
        lib.propagate = False
    capture_native_stderr()
