"""What a test needs from outside the package: skipped on a developer's machine, a failure under CI.

CI (CI=true, as .ci/run sets it) installs R, Chromium, the DfE validator's environment and lays
../shared/ beside the clone, so a missing one there is a broken set-up, not a reason to skip: every
such check goes through `missing`, and every file of ../shared/reference/ through `require_shared`.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"    # beside the project folder (a clone or worktree)


def under_ci() -> bool:
    """True when the environment variable CI is set to anything but an empty or false value."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(reason: str) -> NoReturn:
    """Skip the calling test locally; fail it under CI, naming what is missing."""
    if under_ci():
        pytest.fail(f"required under CI: {reason}")
    pytest.skip(reason)


def require_shared(relative: str | Path, shared: Path | None = None) -> Path:
    """The path of a file or folder under ../shared/ (e.g. "reference/placements-standard-v2.json"),
    skipping the test when it is absent, or failing it under CI."""
    path = (shared or SHARED) / relative
    if not path.exists():
        missing(f"{path} not found (the shared folder beside the project: {shared or SHARED})")
    return path
