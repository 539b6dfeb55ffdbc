"""Random-effects meta-analysis of per-council estimates: the council heterogeneity behind any
England-level statement.

Why: a hazard ratio pooled over one region's councils says what happened there; a claim about
England needs to know how much the association varies from council to council. The two-stage
approach fits the model in each council, then pools the council log HRs y_i (variances v_i) as
y_i ~ N(mu, v_i + tau^2). tau^2 is estimated by DerSimonian & Laird (1986, moments) or REML
(Fisher scoring, as metafor's rma(method = "REML")); mu is the inverse-variance weighted mean
with weights 1 / (v_i + tau^2). The prediction interval (Higgins, Thompson & Spiegelhalter 2009,
JRSS A 172:137) mu +/- t_{k-2} sqrt(tau^2 + se(mu)^2) is where the log HR of a new council like
these is expected to lie: the interval an England-level statement quotes. It needs k >= 3.
Q is Cochran's heterogeneity statistic and I^2 = (Q - (k-1)) / Q (DL's); metafor reports
I^2 = tau^2 / (tau^2 + s^2) with s^2 its "typical" within variance, given here too.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["MetaResult", "random_effects", "tau2_dl", "tau2_reml"]


def _check(y, v) -> tuple[np.ndarray, np.ndarray]:
    y, v = np.asarray(y, float), np.asarray(v, float)
    if y.shape != v.shape or y.ndim != 1:
        raise ValueError("estimates and variances must be 1-d arrays of one length")
    if len(y) < 2:
        raise ValueError("a meta-analysis needs at least 2 estimates")
    if not (np.isfinite(y).all() and np.isfinite(v).all() and (v > 0).all()):
        raise ValueError("estimates must be finite and variances positive")
    return y, v


def _q(y: np.ndarray, v: np.ndarray) -> float:
    w = 1 / v
    mu = (w * y).sum() / w.sum()
    return float((w * (y - mu) ** 2).sum())


def tau2_dl(y, v) -> float:
    """DerSimonian-Laird: max(0, (Q - (k-1)) / (sum w - sum w^2 / sum w)), w = 1/v."""
    y, v = _check(y, v)
    w = 1 / v
    c = w.sum() - (w ** 2).sum() / w.sum()
    return float(max(0.0, (_q(y, v) - (len(y) - 1)) / c))


def tau2_reml(y, v, tol: float = 1e-10, max_iter: int = 500) -> float:
    """REML by Fisher scoring from the DL value (metafor's algorithm): tau^2 <- tau^2 +
    (sum w^2 ((y-mu)^2 - v) / sum w + ... ) -- written as the REML score over its expected
    information, truncated at 0."""
    y, v = _check(y, v)
    t2 = tau2_dl(y, v)
    for _ in range(max_iter):
        w = 1 / (v + t2)
        mu = (w * y).sum() / w.sum()
        # REML score and expected information for tau^2 (Viechtbauer 2005)
        P_diag_term = w - w ** 2 / w.sum()
        r = y - mu
        score = 0.5 * ((w * r) ** 2).sum() - 0.5 * P_diag_term.sum()
        # information: 0.5 tr(P P) with P = W - w w' / sum w
        ww = w.sum()
        trPP = (w ** 2).sum() - 2 * (w ** 3).sum() / ww + ((w ** 2).sum() / ww) ** 2
        step = score / (0.5 * trPP)
        new = max(0.0, t2 + step)
        if abs(new - t2) < tol * max(1.0, t2):
            return float(new)
        t2 = new
    raise RuntimeError("REML estimate of tau^2 did not converge")


@dataclass(frozen=True)
class MetaResult:
    """A random-effects pooled estimate (log scale), its heterogeneity and prediction interval."""

    mu: float
    se: float
    tau2: float
    q: float
    k: int
    i2: float                 # metafor's tau^2 / (tau^2 + typical within variance)
    method: str
    level: float

    @property
    def q_p(self) -> float:
        return float(stats.chi2.sf(self.q, self.k - 1))

    def ci(self) -> tuple[float, float]:
        z = stats.norm.ppf(0.5 + self.level / 2)
        return self.mu - z * self.se, self.mu + z * self.se

    def prediction_interval(self) -> tuple[float, float] | None:
        """Higgins et al. 2009: mu +/- t_{k-2} sqrt(tau^2 + se^2); None with fewer than 3 estimates."""
        if self.k < 3:
            return None
        t = stats.t.ppf(0.5 + self.level / 2, self.k - 2)
        half = t * np.sqrt(self.tau2 + self.se ** 2)
        return self.mu - half, self.mu + half

    def to_dict(self) -> dict:
        pi = self.prediction_interval()
        lo, hi = self.ci()
        return {"mu": self.mu, "se": self.se, "lower": lo, "upper": hi, "tau2": self.tau2, "q": self.q,
                "q_p": self.q_p, "k": self.k, "i2": self.i2, "method": self.method,
                "pi_lower": None if pi is None else pi[0], "pi_upper": None if pi is None else pi[1]}


def random_effects(y, v, method: str = "REML", level: float = 0.95) -> MetaResult:
    """Pool estimates y (variances v) with a random effect: tau^2 by "REML" or "DL"."""
    y, v = _check(y, v)
    if method not in ("REML", "DL"):
        raise ValueError(f"method must be 'REML' or 'DL', not {method!r}")
    t2 = tau2_reml(y, v) if method == "REML" else tau2_dl(y, v)
    w = 1 / (v + t2)
    mu = float((w * y).sum() / w.sum())
    k = len(y)
    w0 = 1 / v
    s2 = (k - 1) * w0.sum() / (w0.sum() ** 2 - (w0 ** 2).sum())
    return MetaResult(mu, float(np.sqrt(1 / w.sum())), float(t2), _q(y, v), k, float(100 * t2 / (t2 + s2)),
                      method, level)
