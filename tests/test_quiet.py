"""`make report` prints one line a notebook event, terminal or not, and no kernel noise."""
from dataclasses import replace

from rcceval import params as params_mod
from rcceval.reporting import runner
from rcceval.reporting.runner import NotebookRun


def test_outcome_lines():
    assert runner.outcome_line(NotebookRun("a", ok=True, seconds=41.6)) == "done in 42 s"
    assert runner.outcome_line(NotebookRun("a", ok=True, seconds=3, skipped=[{}, {}])) == \
        "done in 3 s (partial: 2 sections skipped)"
    assert runner.outcome_line(NotebookRun("a", ok=False, seconds=7.2, error="cell 4: KeyError: 'LA'\nmore")) == \
        "failed after 7 s: cell 4: KeyError: 'LA'"


def test_a_run_prints_started_and_how_each_notebook_ended(monkeypatch, tmp_path, capsys):
    outcomes = {"00_data_quality": NotebookRun("00_data_quality", ok=True, seconds=12.4),
                "02_placement_survival": NotebookRun("02_placement_survival", ok=False, seconds=3.0,
                                                     error="cell 9: ValueError: no events"),
                "03_unit_cost_vs_needs_led": NotebookRun("03_unit_cost_vs_needs_led", ok=True, seconds=60.0)}
    monkeypatch.setattr(runner, "execute_notebook", lambda name, *a: outcomes[name])
    params = replace(params_mod.Parameters(), notebooks=tuple(outcomes))
    runs = runner._run_set(params, tmp_path, tmp_path, "k", jobs=1, label="small")
    assert [r.name for r in runs] == sorted(outcomes)
    assert capsys.readouterr().out.splitlines() == [
        "small: 00_data_quality started", "small: 00_data_quality done in 12 s",
        "small: 02_placement_survival started", "small: 02_placement_survival failed after 3 s: cell 9: ValueError: no events",
        "small: 03_unit_cost_vs_needs_led started", "small: 03_unit_cost_vs_needs_led done in 60 s"]


def test_the_kernel_is_quiet_and_keeps_only_warnings_that_matter(tmp_path, capfd):
    """A notebook run in the project kernel: nothing from the kernel on the terminal (its TCP warning
    and the like), library deprecation warnings filtered out of the report, a RuntimeWarning kept."""
    import nbformat
    import papermill as pm
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import warnings\nwarnings.warn('old api', DeprecationWarning)\n"
                                          "warnings.warn('soon', FutureWarning)\nwarnings.warn('overflow', RuntimeWarning)")]
    nbformat.write(nb, tmp_path / "tiny.ipynb")
    with runner.project_kernel() as kernel:
        pm.execute_notebook(str(tmp_path / "tiny.ipynb"), str(tmp_path / "out.ipynb"), kernel_name=kernel,
                            progress_bar=False, log_output=False)
    shown = "".join(o.get("text", "") for o in nbformat.read(tmp_path / "out.ipynb", 4).cells[0].outputs)
    assert "overflow" in shown and "old api" not in shown and "soon" not in shown
    captured = capfd.readouterr()
    assert "IPKernelApp" not in captured.err + captured.out
