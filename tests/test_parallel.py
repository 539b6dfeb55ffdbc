"""One parallel setting (rcceval.parallel): the parameter checks, local workers, and a real Dask cluster.

The parallel steps seed each task from its own child of a SeedSequence, so their results are identical
run serially, on two local workers, or on a dask.distributed LocalCluster reached by its tcp address.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import distributed  # the test extra installs dask[distributed]
import numpy as np
import pandas as pd
import pytest
import yaml
from joblib import delayed

from rcceval import parallel
from rcceval import params as params_mod
from rcceval.analyses.prediction.metrics import bootstrap_aucs
from rcceval.analyses.proposal import power as pw
from rcceval.parallel import ParallelSetting

ROOT = Path(__file__).resolve().parents[1]


def _worker_address(_: int) -> str:
    return distributed.get_worker().address


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded workers behind a tcp scheduler, as a user's cluster would be reached."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp",
                                  dashboard_address=None) as c:
        yield c


# ------------------------------------------------------------------------------------ the setting


@pytest.mark.parametrize("workers, scheduler, rule", [
    (0, None, "1 to 256"), (-2, None, "1 to 256"), (True, None, "whole number"), (2.5, None, "whole number"),
    (2, "localhost:8786", "tcp://host:port"), (2, "http://h:8786", "tcp://host:port"),
    (2, "tcp://h:99999", "tcp://host:port"), (2, 8786, "tcp://host:port"),
])
def test_a_bad_setting_is_refused(workers, scheduler, rule):
    with pytest.raises(ValueError, match=rule.replace(".", r"\.")):
        ParallelSetting(workers, scheduler)


def test_good_settings_and_ints():
    assert ParallelSetting(-1, "tcp://10.0.0.5:8786").scheduler == "tcp://10.0.0.5:8786"
    assert ParallelSetting(2, "tls://[::1]:8786").workers == 2
    assert parallel.setting(3) == ParallelSetting(3, None) and parallel.setting(None).serial
    s = ParallelSetting(4, "tcp://h:1")
    assert parallel.setting(s) is s and not s.serial


def test_default_parameters_carry_one_parallel_setting():
    p = params_mod.load(ROOT / "parameters" / "default.yaml", root=ROOT)
    assert p.parallel == ParallelSetting(workers=2, scheduler=None) == params_mod.Parameters().parallel
    assert p.to_dict()["parallel"] == {"workers": 2, "scheduler": None}
    assert "jobs" not in p.to_dict()["analysis"]
    cell = params_mod.parameter_cell("00_data_quality")
    assert "parallel = {'workers': 2, 'scheduler': None}\n" in cell


def test_a_scheduler_address_is_accepted(tmp_path):
    values = yaml.safe_load((ROOT / "parameters" / "default.yaml").read_text())
    values["parallel"] = {"workers": 1, "scheduler": "tcp://10.0.0.5:8786"}
    p = params_mod.parse(values, source="p.yaml", root=ROOT)
    assert p.parallel == ParallelSetting(1, "tcp://10.0.0.5:8786")


def test_cli_refuses_a_bad_scheduler(capsys):
    from rcceval.cli import main
    with pytest.raises(SystemExit) as exit_:
        main(["validate", "data", "--scheduler", "localhost:8786"])
    assert exit_.value.code == 2
    assert "--scheduler 'localhost:8786': a Dask scheduler address tcp://host:port" in capsys.readouterr().err


# ------------------------------------------------------------------------------------ where tasks run


def test_one_worker_runs_here_and_two_run_in_worker_processes():
    here = os.getpid()
    assert parallel.run([delayed(os.getpid)() for _ in range(4)], 1) == [here] * 4
    pids = parallel.run([delayed(os.getpid)() for _ in range(4)], 2)
    assert here not in pids and 1 <= len(set(pids)) <= 2
    assert parallel.run([delayed(os.getpid)() for _ in range(3)], 2, prefer="threads") == [here] * 3


def test_tasks_go_to_the_scheduler(cluster):
    s = ParallelSetting(workers=1, scheduler=cluster.scheduler_address)
    assert s.scheduler.startswith("tcp://")
    ran_on = parallel.run([delayed(_worker_address)(i) for i in range(8)], s)
    assert set(ran_on) <= {w.worker_address for w in cluster.workers.values()} and len(ran_on) == 8
    assert parallel.run([delayed(pow)(i, 2) for i in range(6)], s) == [0, 1, 4, 9, 16, 25]   # task order kept


# ------------------------------------------------------------------------------------ same results


def _power(n_jobs) -> pw.SimulatedPower:
    rng = np.random.default_rng(5)
    z = rng.standard_normal(800)
    x = (rng.random(800) < 1 / (1 + np.exp(-(-0.4 + 0.8 * z)))).astype(float)
    model = pw.GeneratingModel(names=("x", "z"), baseline={"unplanned": (0.3, 0.8), "planned": (0.4, 1.0)},
                               log_hr={"unplanned": np.array([0.3, 0.3]), "planned": np.array([0.0, 0.2])})
    return pw.SimulatedPower(model, np.column_stack([x, z]), "x", replicates=24, seed=9, chunk=5,
                             n_jobs=n_jobs).fit([(200, 1.0), (400, 2.0)])


def test_power_simulation_is_identical_serial_two_workers_and_on_a_cluster(cluster):
    one, two = _power(1), _power(2)
    on_cluster = _power(ParallelSetting(workers=1, scheduler=cluster.scheduler_address))
    for other in (two, on_cluster):
        pd.testing.assert_frame_equal(one.table, other.table)
        pd.testing.assert_frame_equal(one.draws, other.draws)
    assert len(one.draws) == 48 and one.draws["rejected"].between(0, 1).all()
    assert not math.isnan(one.table["power"].iloc[1])


def test_bootstrap_is_identical_serial_two_workers_and_on_a_cluster(cluster):
    rng = np.random.default_rng(2)
    n = 600
    clusters = rng.integers(0, 150, n)
    y = rng.random(n) < 0.3
    scores = {"a": rng.random(n) + 0.4 * y, "b": rng.random(n)}
    w = np.ones(n)
    kw = dict(n_boot=45, seed=11, chunk=10, subsets={"half": np.arange(n) % 2 == 0})
    one = bootstrap_aucs(scores, y, w, clusters, n_jobs=1, **kw)
    two = bootstrap_aucs(scores, y, w, clusters, n_jobs=2, **kw)
    on_cluster = bootstrap_aucs(scores, y, w, clusters, n_jobs=ParallelSetting(1, cluster.scheduler_address), **kw)
    for other in (two, on_cluster):
        assert set(other) == {"all", "half"}
        for k in one:
            pd.testing.assert_frame_equal(one[k], other[k])
    assert one["all"].shape == (45, 2) and one["all"]["a"].mean() > one["all"]["b"].mean()
