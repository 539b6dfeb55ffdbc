"""Runs that never lose results: one run a name, atomic replacement, clean interruption, clear
errors for an unwritable outputs folder (issue 19 item 3). Each test drives `rcceval run` as a
subprocess on a small synthetic region with only 00_data_quality."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def _cli(project: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "rcceval.cli", "run", str(project / "parameters" / "tiny.yaml"), *args]


def _start(project: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(_cli(project, *args), cwd=project, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project folder with a tiny parameter file, and one finished run 'tiny' (the old results)."""
    tmp = tmp_path_factory.mktemp("safety")
    (tmp / "pyproject.toml").write_text("# test project\n")
    shutil.copytree(ROOT / "notebooks", tmp / "notebooks")
    (tmp / "parameters").mkdir()
    shutil.copy(ROOT / "parameters" / "costing.yaml", tmp / "parameters" / "costing.yaml")
    values = yaml.safe_load((ROOT / "parameters" / "default.yaml").read_text())
    values.update(run_name="tiny", notebooks=["00_data_quality"],
                  synthetic={"scale": "small", "seed": 7, "null_needs": False})
    (tmp / "parameters" / "tiny.yaml").write_text(yaml.safe_dump(values))
    done = subprocess.run(_cli(tmp), cwd=tmp, env=ENV, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return tmp


def _partials(project: Path) -> list[Path]:
    return sorted((project / "outputs").glob(".tiny.partial-*")) + sorted((project / "outputs").glob(".tiny.old-*"))


def _wait_for_partial(proc: subprocess.Popen, project: Path, timeout: float = 120) -> None:
    t0 = time.monotonic()
    while not _partials(project):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - t0 < timeout, "no partial folder appeared"
        time.sleep(0.05)


def test_a_second_run_of_the_same_name_refuses_at_once_naming_the_first(project):
    before = _snapshot(project / "outputs" / "tiny")
    first = _start(project)
    try:
        _wait_for_partial(first, project)
        t0 = time.monotonic()
        second = subprocess.run(_cli(project), cwd=project, env=ENV, capture_output=True, text=True, timeout=60,
                                check=False)
        assert time.monotonic() - t0 < 20
        assert second.returncode == 2
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and f"pid {first.pid}" in lines[0] and "Traceback" not in second.stderr
        assert _snapshot(project / "outputs" / "tiny") == before  # nothing written meanwhile
    finally:
        _out, err = first.communicate(timeout=600)
    assert first.returncode == 0, err[-2000:]
    after = _snapshot(project / "outputs" / "tiny")
    assert set(after) == set(before)  # the first run's folder complete: no file lost
    assert not _partials(project) and not (project / "outputs" / ".tiny.lock").exists()


def test_a_stale_lock_of_a_dead_process_is_taken_over(project):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    (project / "outputs" / ".tiny.lock").write_text(dead.stdout)
    (project / "outputs" / f".tiny.partial-{dead.stdout.strip()}").mkdir()  # its abandoned work folder
    done = subprocess.run(_cli(project), cwd=project, env=ENV, capture_output=True, text=True, timeout=600,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (project / "outputs" / "tiny" / "index.html").is_file() and not _partials(project)


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_run_leaves_the_previous_results_intact(project, sig, code):
    before = _snapshot(project / "outputs" / "tiny")
    proc = _start(project)
    _wait_for_partial(proc, project)
    t0 = time.monotonic()
    while not any("ipykernel" in " ".join(c.cmdline()) for c in psutil.Process(proc.pid).children(recursive=True)):
        assert proc.poll() is None and time.monotonic() - t0 < 120, "no notebook kernel started"
        time.sleep(0.05)
    time.sleep(0.5)  # a notebook is executing
    proc.send_signal(sig)
    t0 = time.monotonic()
    _out, err = proc.communicate(timeout=60)
    assert time.monotonic() - t0 < 30
    assert proc.returncode == code, err[-2000:]
    assert "Traceback" not in err and len([line for line in err.splitlines() if "rcceval:" in line]) == 1
    assert not _partials(project) and not (project / "outputs" / ".tiny.lock").exists()
    assert _snapshot(project / "outputs" / "tiny") == before


def test_a_read_only_outputs_folder_gives_one_line(project):
    outputs = project / "outputs"
    mode = outputs.stat().st_mode
    outputs.chmod(0o555)
    try:
        done = subprocess.run(_cli(project), cwd=project, env=ENV, capture_output=True, text=True, timeout=120,
                              check=False)
    finally:
        outputs.chmod(mode)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [(f"rcceval: outputs folder {outputs} is read-only: "
                                                "make it writable (chmod u+w) to run")]


def test_an_outputs_file_gives_one_line(project, tmp_path):
    other = tmp_path / "p"
    shutil.copytree(project, other, ignore=shutil.ignore_patterns("outputs"))
    (other / "outputs").write_text("not a folder\n")
    done = subprocess.run(_cli(other), cwd=other, env=ENV, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "is a file, not a folder" in lines[0] and "Traceback" not in done.stderr


def test_two_runs_started_together_one_refuses_and_no_file_is_lost(project):
    before = set(_snapshot(project / "outputs" / "tiny"))
    procs = [_start(project), _start(project)]
    results = [(p.pid, *p.communicate(timeout=600), p.returncode) for p in procs]
    codes = sorted(r[3] for r in results)
    assert codes == [0, 2], [r[2][-1000:] for r in results]
    winner = next(r for r in results if r[3] == 0)
    loser = next(r for r in results if r[3] == 2)
    assert loser[2].strip().splitlines() == [loser[2].strip()] and f"pid {winner[0]}" in loser[2]
    assert "Traceback" not in loser[2] + winner[2]
    assert set(_snapshot(project / "outputs" / "tiny")) == before and not _partials(project)
