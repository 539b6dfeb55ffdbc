"""The workbench: the README's own-notebook example runs as written."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_example() -> str:
    """The README's example of using the package from one's own notebook (the block that fits question 2)."""
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    return next(b for b in blocks if "PlacementSurvival" in b)


@pytest.mark.slow
def test_the_readme_example_runs_as_written(tmp_path, monkeypatch):
    import matplotlib
    matplotlib.use("Agg")
    from rcceval.synth import generate
    generate(tmp_path / "data/synthetic/small-seed7", scale="small", seed=7)   # what the README's rcceval synth makes
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(readme_example(), "README.md", "exec"), scope)
    mismatch = scope["q2"].main.summary.loc["MISMATCH"]
    assert mismatch["hr_lower"] > 1          # the synthetic region's mismatch effect is there to find
    assert len(scope["plt"].gcf().axes) >= 1


@pytest.mark.slow
def test_make_lab_serves_the_jupytext_sources_as_notebooks_in_the_project_kernel(tmp_path):
    """The command `make lab` runs (read from the Makefile with make -n, not run through make): the
    report sources open as notebooks, by default, with the kernel they name (python3) the server's default:
    jupyter_client launches it with the server's own interpreter, this environment's."""
    import json
    import os
    import shlex
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    extra = f"--no-browser --allow-root --port={port} --IdentityProvider.token=t --ServerApp.open_browser=False"
    command = subprocess.run(["make", "-s", "-n", "lab", "STAMP=", f"VENV={Path(sys.executable).parent.parent}",
                              f"LAB_ARGS={extra}"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    argv = shlex.split(command.replace("\\\n", " "))
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt")}
    server = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def get(path: str) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}{'&' if '?' in path else '?'}token=t",
                                    timeout=10) as r:
            return json.loads(r.read())
    try:
        for _ in range(120):
            try:
                kernels = get("/api/kernelspecs")
                break
            except OSError:
                time.sleep(1)
        else:
            pytest.fail("JupyterLab did not start in 120 s")
        nb = get("/api/contents/02_placement_survival.py?type=notebook")
        assert nb["type"] == "notebook" and len(nb["content"]["cells"]) > 10
        assert nb["content"]["metadata"]["kernelspec"]["name"] == kernels["default"] == "python3"
        viewer = get("/lab/api/settings/@jupyterlab/docmanager-extension:plugin")
        assert viewer["schema"]["properties"]["defaultViewers"]["default"] == {"python": "Jupytext Notebook"}
    finally:
        server.terminate()
        server.wait(timeout=30)
