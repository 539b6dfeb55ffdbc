"""Numbers as statisticians write them, in one place: index.html and every report's text use these.

- p-values: "p = 0.042", "p < 0.001" below a thousandth; never "p = 0".
- thousands separators: 12,346; whole numbers from 1,000 up; otherwise three significant figures,
  never scientific notation.
- units: money in whole pounds (£18,585), days ("183 days", "1 day"), shares as percentages (25.1%).
- intervals as "lower to upper", the estimate and its bounds to the same decimals:
  "0.769 (95% CI 0.763 to 0.774)".
- a value hidden by disclosure control ("c") explained where it appears: "c (suppressed: fewer than 5)".
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

SUPPRESSED = "c"     # results.SUPPRESSED (not imported: this module stays free of pandas)
DIGITS = 3           # significant figures of a number below 1,000


def missing(x: Any) -> bool:
    """None or NaN: a figure not available."""
    return x is None or (isinstance(x, float) and math.isnan(x))


def decimals(x: float, digits: int = DIGITS) -> int:
    """Decimals that show `x` to `digits` significant figures (none from 1,000 up)."""
    if x == 0 or not math.isfinite(x) or abs(x) >= 1000:
        return 0
    return max(0, digits - 1 - math.floor(math.log10(abs(x))))


def fixed(x: float, places: int) -> str:
    """x to `places` decimals with thousands separators; "-0" is written "0"."""
    out = f"{x:,.{places}f}"
    return out[1:] if out.startswith("-") and float(out[1:].replace(",", "")) == 0 else out


def number(x: Any, digits: int = DIGITS) -> str:
    """Whole numbers with thousands separators (12,346); others to `digits` significant figures
    without trailing zeros (0.712, 2.5); "c" explained; None as "not available"."""
    if x == SUPPRESSED:
        return SUPPRESSED
    if isinstance(x, bool) or isinstance(x, str):
        return str(x)
    if missing(x):
        return "not available"
    if isinstance(x, int) or float(x).is_integer() or abs(x) >= 1000:
        return f"{round(x):,}"
    out = fixed(float(x), decimals(float(x), digits))
    return out.rstrip("0").rstrip(".") if "." in out else out


def signed(x: Any, places: int | None = None) -> str:
    """A difference with its sign: +0.055, -1.2."""
    if missing(x) or x == SUPPRESSED:
        return number(x)
    out = number(x) if places is None else fixed(float(x), places)
    return out if out.startswith("-") or float(x) == 0 else "+" + out


def count(x: Any) -> str:
    """A count: 33,435 ("c" when suppressed)."""
    return number(x)


def money(x: Any) -> str:
    """Whole pounds with separators: £18,585; -£1,200."""
    if missing(x) or x == SUPPRESSED:
        return number(x)
    whole = round(float(x))
    return f"-£{-whole:,}" if whole < 0 else f"£{whole:,}"


def days(x: Any) -> str:
    """A duration in days: 1 day, 183 days, 12.5 days."""
    if missing(x) or x == SUPPRESSED:
        return number(x)
    return f"{number(x)} {'day' if float(x) == 1 else 'days'}"


def percent(share: Any, places: int = 1) -> str:
    """A share (0 to 1) as a percentage: 25.1%; "<0.1%" for a share above 0 that would print as 0."""
    if missing(share) or share == SUPPRESSED:
        return number(share)
    pct = 100 * float(share)
    if 0 < abs(pct) < 0.5 * 10 ** -places:
        return f"<{10 ** -places:g}%" if pct > 0 else f"-<{10 ** -places:g}%"
    return f"{fixed(pct, places)}%"


def p_value(p: Any) -> str:
    """p = 0.042; below 0.001 "p < 0.001"; never "p = 0"."""
    if missing(p):
        return "p not available"
    if p == SUPPRESSED:
        return "p c"
    return "p < 0.001" if p < 0.001 else f"p = {float(p):.3f}"


def places(value: Any, lower: Any = None, upper: Any = None) -> int:
    """Decimals for an estimate and its interval, the same for all three: two significant figures of
    the interval's width (enough to tell its bounds apart, no more), or three of the estimate when
    there is no interval."""
    if not (missing(lower) or missing(upper)) and float(upper) != float(lower):
        return max(0, 1 - math.floor(math.log10(abs(float(upper) - float(lower)))))
    ref = value if not missing(value) and float(value) != 0 else max(abs(float(lower or 0)), abs(float(upper or 0)))
    return decimals(float(ref))


def interval(lower: Any, upper: Any, fmt: Callable[[Any], str] | None = None, places: int | None = None) -> str:
    """An interval as "lower to upper": with `fmt` (money, percent...) each bound by it, otherwise
    both to `places` decimals (default: two significant figures of its width)."""
    if missing(lower) or missing(upper):
        return "interval not available"
    if fmt is not None:
        return f"{fmt(lower)} to {fmt(upper)}"
    n = globals()["places"](None, lower, upper) if places is None else places
    return f"{fixed(float(lower), n)} to {fixed(float(upper), n)}"


def _level(level: float | None) -> str:
    return "CI" if level is None else f"{number(100 * level)}% CI"


def estimate(value: Any, lower: Any = None, upper: Any = None, level: float | None = 0.95,
             fmt: Callable[[Any], str] | None = None) -> str:
    """An estimate with its interval: "0.769 (95% CI 0.763 to 0.774)", value and bounds to the same
    decimals (places()); with `fmt` each by it ("£18,585 (95% CI £8,241 to £29,936)"). Without an
    interval, the estimate alone."""
    if missing(value) or value == SUPPRESSED:
        return number(value)
    if missing(lower) or missing(upper):
        return fmt(value) if fmt is not None else number(value)
    if fmt is not None:
        return f"{fmt(value)} ({_level(level)} {interval(lower, upper, fmt)})"
    n = places(value, lower, upper)
    return f"{fixed(float(value), n)} ({_level(level)} {interval(lower, upper, places=n)})"


def difference(value: Any, lower: Any = None, upper: Any = None, level: float | None = 0.95) -> str:
    """A signed difference with its interval, as in a sentence: "+0.0552, 95% CI 0.0519 to 0.0585"."""
    if missing(value) or value == SUPPRESSED:
        return number(value)
    if missing(lower) or missing(upper):
        return signed(value)
    n = places(value, lower, upper)
    return f"{signed(value, n)}, {_level(level)} {interval(lower, upper, places=n)}"


def suppressed(threshold: int) -> str:
    """What a "c" means, beside it."""
    return f"c (suppressed: fewer than {threshold})"


def explain(text: str, threshold: int) -> str:
    """A rendered value with its "c" explained: "c" alone becomes suppressed(threshold)."""
    return suppressed(threshold) if text == SUPPRESSED else text


__all__ = ["count", "days", "decimals", "difference", "estimate", "explain", "fixed", "interval", "missing", "money", "number",
           "p_value", "percent", "places", "signed", "suppressed"]
