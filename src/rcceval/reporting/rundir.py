"""A run's output folder, safely: one lock a run name, a hidden work folder, an atomic swap.

Two `rcceval run` with the same name would otherwise write into one folder and leave a mix of
both; an interrupted run would leave half a report. So a run holds outputs/.<run>.lock (an
flock, released by the kernel if the process dies, holding the pid for the refusal message),
writes into outputs/.<run>.partial-<pid>, and only when complete renames the old folder away,
the new one in, and deletes the old.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import stat
import time
from collections.abc import Iterator
from pathlib import Path


class RunFolderError(Exception):
    """The run cannot write its outputs (locked by another run, outputs not a writable folder)."""


class Interrupted(BaseException):
    """SIGTERM received: raised in the main thread so the run cleans up like on Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def check_outputs(outputs: Path) -> None:
    """Make sure outputs is a folder this run may write to; one clear line otherwise."""
    if outputs.exists() and not outputs.is_dir():
        raise RunFolderError(f"outputs folder {outputs} is a file, not a folder: move it away or choose another project folder")
    try:
        outputs.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunFolderError(f"outputs folder {outputs} cannot be made: {exc.strerror}") from None
    mode = outputs.stat().st_mode
    if not os.access(outputs, os.W_OK | os.X_OK) or not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise RunFolderError(f"outputs folder {outputs} is read-only: make it writable (chmod u+w) to run")


def _pid_in(path: Path) -> str:
    for _ in range(20):  # the holder may not have written its pid yet
        with contextlib.suppress(OSError):
            text = path.read_text().strip()
            if text:
                return text
        time.sleep(0.05)
    return "unknown"


@contextlib.contextmanager
def run_lock(outputs: Path, run_id: str) -> Iterator[Path]:
    """Hold the lock of run_id for the block; refuse at once if a live process holds it."""
    path = outputs / f".{run_id}.lock"
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise RunFolderError(f"outputs folder {outputs}: cannot make the lock file {path.name}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunFolderError(f"run '{run_id}' is already running (pid {_pid_in(path)}); "
                                 f"wait for it to finish or give another --run-id") from None
        try:  # the file may have been unlinked by its last holder between our open and flock
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)  # a stale pid of a dead run is simply replaced
        os.write(fd, f"{os.getpid()}\n".encode())
        os.fsync(fd)
        yield path
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)


def work_dir(outputs: Path, run_id: str) -> Path:
    """A fresh hidden work folder for this process; partial folders of earlier runs of the same
    name are removed (the lock is held, so their runs are over)."""
    for old in outputs.glob(f".{run_id}.partial-*"):
        shutil.rmtree(old, ignore_errors=True)
    for old in outputs.glob(f".{run_id}.old-*"):
        shutil.rmtree(old, ignore_errors=True)
    work = outputs / f".{run_id}.partial-{os.getpid()}"
    work.mkdir()
    return work


def publish(work: Path, final: Path) -> None:
    """Replace final by work: old renamed away, new renamed in, old deleted (signals held)."""
    old = final.with_name(f".{final.name}.old-{os.getpid()}")
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        if final.exists():
            final.rename(old)
        work.rename(final)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    shutil.rmtree(old, ignore_errors=True)


def stop_children() -> None:
    """Kill this process's children (notebook kernels) so an interrupted run ends at once."""
    import psutil

    children = psutil.Process().children(recursive=True)
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.kill()
    psutil.wait_procs(children, timeout=5)
