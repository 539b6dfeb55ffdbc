"""Checking values read from parameter and instrument files, with errors that name file, key and rule."""
from __future__ import annotations

from pathlib import Path
from typing import NoReturn

from rcceval.errors import ParameterError


class Checker:
    """Checks of values read from a YAML file: each failure raises ParameterError(path, key, value, rule)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, value: object, rule: str) -> NoReturn:
        raise ParameterError(self.path, key, value, rule)

    def mapping(self, value: object, key: str, allowed: set[str],
                required: frozenset[str] | set[str] = frozenset()) -> dict:
        if not isinstance(value, dict):
            self.fail(key or "<file>", value, "must be a mapping of keys to values")
        prefix = f"{key}." if key else ""
        for k in value:
            if k not in allowed:
                self.fail(f"{prefix}{k}", value[k], f"unknown key; allowed keys: {', '.join(sorted(allowed))}")
        for k in sorted(required):
            if k not in value:
                self.fail(f"{prefix}{k}", None, "is required")
        return value

    def text(self, value: object, key: str, required: bool = True) -> str:
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.fail(key, value, "must be non-empty text")
        return value.strip()

    def integer(self, value: object, key: str, lo: float, hi: float) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            self.fail(key, value, f"must be a whole number from {lo:g} to {hi:g}")
        return value

    def number(self, value: object, key: str, lo: float, hi: float) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
            self.fail(key, value, f"must be a number from {lo:g} to {hi:g}")
        return value
