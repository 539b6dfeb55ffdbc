"""Errors users see instead of tracebacks: each names where the problem is and the rule broken."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class ParameterError(Exception):
    """A parameter or instrument file breaks a rule (unknown key, wrong type, missing path...)."""

    path: str | Path
    key: str
    value: object
    rule: str

    def __str__(self) -> str:
        return f"{self.path}: parameter '{self.key}' = {self.value!r}: {self.rule}"


class DataValidationError(Exception):
    """Input data cannot be analysed: carries the full validation report, prints its summary."""

    def __init__(self, report: "object", message: str | None = None) -> None:
        self.report = report
        super().__init__(message or getattr(report, "summary", lambda: "invalid data")())
