"""One parallel setting for every parallel step: a number of local workers, or a Dask scheduler.

Bootstraps (question 1), the power simulation (question 4), the costing microsimulation (question 3),
the demand forecast (question 5) and the DfE rules over council-years (data quality) all hand their
tasks to `run` with the run's `parallel` parameters (`parallel: {workers: 2, scheduler: null}`).
Locally the tasks go to joblib's loky processes (or threads, for steps whose work releases the GIL);
with a scheduler address (`tcp://host:port`) they go to that Dask cluster through joblib's dask
backend, for users who outgrow one machine.

Every step seeds each task from its own child of a SeedSequence and keeps results in task order, so
what comes back never depends on the number of workers or on where the tasks ran (tests check this
on a dask.distributed LocalCluster).

This module imports nothing from the rest of rcceval, so every layer (ingest, analyses, reporting)
may use it without an arrow running back.
"""
from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import joblib

SCHEDULER_PATTERN = re.compile(r"^(tcp|tls)://(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.\-_]+):(\d{1,5})$")
SCHEDULER_RULE = "must be null or a Dask scheduler address tcp://host:port (or tls://host:port)"
MAX_WORKERS = 256


@dataclass(frozen=True)
class ParallelSetting:
    """How parallel steps run: `workers` local workers (-1: every core), or a Dask `scheduler`.

    With a scheduler the cluster decides how many tasks run at once and `workers` is not used.
    """

    workers: int = 2
    scheduler: str | None = None

    def __post_init__(self) -> None:
        problem = workers_problem(self.workers) or scheduler_problem(self.scheduler)
        if problem:
            raise ValueError(f"parallel setting {self!r}: {problem}")

    @property
    def serial(self) -> bool:
        """True when tasks run one after another in this process."""
        return self.scheduler is None and self.workers == 1


Workers = int | ParallelSetting      # what a parallel step accepts: a number of workers, or the setting


def workers_problem(value: object) -> str | None:
    """Why `value` is not a number of workers (None if it is one)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return "workers must be a whole number"
    if value == 0 or value < -1 or value > MAX_WORKERS:
        return f"workers must be 1 to {MAX_WORKERS} (or -1: every core)"
    return None


def scheduler_problem(value: object) -> str | None:
    """Why `value` is not a scheduler address (None if it is null or one)."""
    if value is None:
        return None
    if not isinstance(value, str):
        return SCHEDULER_RULE
    m = SCHEDULER_PATTERN.match(value)
    if not m or not 1 <= int(m[3]) <= 65535:
        return SCHEDULER_RULE
    return None


def setting(value: Workers | None) -> ParallelSetting:
    """The setting for a step's `n_jobs`-style argument: a ParallelSetting as is, an int as local workers."""
    if isinstance(value, ParallelSetting):
        return value
    if value is None:
        return ParallelSetting(workers=1)
    return ParallelSetting(workers=value)


@contextlib.contextmanager
def configured(value: Workers | None, prefer: str | None = None) -> Iterator[ParallelSetting]:
    """A joblib context for the setting: dask backend on a Client to the scheduler, else loky (or
    threads when `prefer="threads"`) with the number of workers. Parallel() calls inside obey it."""
    s = setting(value)
    if s.scheduler is None:
        backend = "threading" if prefer == "threads" else "loky"
        with joblib.parallel_config(backend=backend, n_jobs=s.workers):
            yield s
        return
    try:
        from dask.distributed import Client
    except ImportError as exc:  # pragma: no cover - the parameter check names this first
        raise RuntimeError(f"parallel.scheduler {s.scheduler}: needs dask.distributed "
                           "(pip install 'rcceval[dask]')") from exc
    with Client(s.scheduler, set_as_default=False) as client, \
            joblib.parallel_config(backend="dask", client=client):
        yield s


def run(tasks: Iterable[Any], value: Workers | None, prefer: str | None = None) -> list:
    """Run joblib `delayed` tasks under the setting; results in task order.

    A serial setting (or a single task) runs in this process without starting any pool.
    """
    tasks = list(tasks)
    s = setting(value)
    if len(tasks) <= 1 and s.scheduler is None or s.serial:
        return [fn(*args, **kwargs) for fn, args, kwargs in tasks]
    with configured(s, prefer):
        return joblib.Parallel()(tasks)
