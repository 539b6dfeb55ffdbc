"""E-values (VanderWeele & Ding 2017): how strong unmeasured confounding would have to be to explain away
an association.

The E-value of a risk ratio RR > 1 is RR + sqrt(RR * (RR - 1)): the minimum strength of association, on
the risk-ratio scale, that an unmeasured confounder would need with both the exposure (mismatch) and the
outcome (disruption), above the measured covariates, to move the estimate to 1. For RR < 1 take 1 / RR
first. A hazard ratio is first put on the risk-ratio scale (VanderWeele & Ding 2017, Table 2, and
VanderWeele 2020 for the hazard ratio):
  - rare outcome (under about 15% by the end of follow-up): RR ~ HR;
  - common outcome: RR ~ (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)).
Placement disruption within a few years is common, so question 3 uses rare_outcome=False by default.
The E-value of the confidence interval is that of the limit closest to 1, and 1 if the interval holds 1.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["EValue", "evalue_rr", "hr_to_rr", "evalue_hr", "evalue_from_log_hr"]


def _positive(x: float, name: str) -> float:
    x = float(x)
    if not np.isfinite(x) or x <= 0:
        raise ValueError(f"{name} = {x!r}: a ratio must be a positive finite number")
    return x


def evalue_rr(rr: float) -> float:
    """E-value of a risk ratio (point estimate): RR + sqrt(RR (RR - 1)), RR taken >= 1."""
    rr = _positive(rr, "risk ratio")
    if rr < 1:
        rr = 1.0 / rr
    return rr + np.sqrt(rr * (rr - 1.0))


def hr_to_rr(hr: float, rare_outcome: bool) -> float:
    """A hazard ratio on the risk-ratio scale: itself if the outcome is rare, else the sqrt transform."""
    hr = _positive(hr, "hazard ratio")
    if rare_outcome:
        return hr
    return (1.0 - 0.5 ** np.sqrt(hr)) / (1.0 - 0.5 ** np.sqrt(1.0 / hr))


@dataclass(frozen=True)
class EValue:
    """E-values of an estimate and of its confidence limit closest to 1, with what they were computed on."""

    estimate: float            # the hazard ratio
    lower: float
    upper: float
    rare_outcome: bool
    rr_estimate: float         # the estimate on the risk-ratio scale
    evalue_estimate: float
    limit_used: float | None   # the confidence limit closest to 1 (None if the interval holds 1)
    evalue_limit: float        # 1 if the interval holds 1


def evalue_hr(hr: float, lower: float, upper: float, rare_outcome: bool = False) -> EValue:
    """E-values for a hazard ratio and its confidence interval (lower <= hr <= upper)."""
    hr, lower, upper = (_positive(hr, "hazard ratio"), _positive(lower, "lower limit"),
                        _positive(upper, "upper limit"))
    if not lower <= hr <= upper:
        raise ValueError(f"confidence interval ({lower}, {upper}) does not hold the estimate {hr}")
    rr = hr_to_rr(hr, rare_outcome)
    if lower <= 1.0 <= upper:
        limit, e_limit = None, 1.0
    else:
        limit = lower if hr > 1 else upper
        e_limit = evalue_rr(hr_to_rr(limit, rare_outcome))
    return EValue(hr, lower, upper, rare_outcome, rr, evalue_rr(rr), limit, e_limit)


def evalue_from_log_hr(coef: float, se: float, level: float = 0.95, rare_outcome: bool = False) -> EValue:
    """E-values for a Cox coefficient (log hazard ratio) and its standard error (Wald interval)."""
    from scipy.stats import norm

    if not (np.isfinite(coef) and np.isfinite(se) and se > 0):
        raise ValueError(f"coef = {coef!r}, se = {se!r}: need a finite coefficient and a positive standard error")
    z = norm.ppf(0.5 + level / 2)
    return evalue_hr(np.exp(coef), np.exp(coef - z * se), np.exp(coef + z * se), rare_outcome)
