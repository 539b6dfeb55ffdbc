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
