"""Vectorised simulation of the stock and flow of children looked after, quarter by quarter.

The state array holds, for every simulation at once, the children by age in quarters x placement
type group x quarters in placement: (draws, AGES, G, DUR). Each quarter, the children of every state
are split by sequential binomial draws into leave care, move to each group and stay (the
probabilities of the simulation's own draw of the transition model, by age in years); stayers age a
quarter and gain a quarter in placement, movers age a quarter and start a placement of their new
group, a child reaching 18 leaves; then the quarter's entrants (negative binomial or Poisson counts
of the simulation's entry rates, spread over age and group by the observed mix) join with no time in
placement. Nothing loops over children: the work per quarter is a handful of array operations.
"""
from __future__ import annotations

import numpy as np
from joblib import delayed

from rcceval import parallel
from rcceval.analyses.sufficiency.forecast_rates import YEARS, EntryModel, TransitionModel
from rcceval.analyses.sufficiency.forecast_states import AGES, DUR, GROUPS, OUTCOMES
from rcceval.parallel import Workers


def draw_entrants(rng: np.random.Generator, model: EntryModel, draws: int, quarters: int) -> np.ndarray:
    """(draws, quarters, AGES, G) simulated entrants."""
    mu = model.draw_means(rng, draws, quarters)                            # (S, C, Q)
    if model.dispersion > 1.0:                                             # gamma-Poisson: variance phi x mean
        k = model.dispersion - 1.0
        mu = rng.gamma(np.maximum(mu, 1e-12) / k, k) * (mu > 0)
    n = rng.poisson(mu)                                                    # (S, C, Q)
    out = np.zeros((draws, quarters, AGES * len(GROUPS)), dtype=np.int64)
    mix = model.mix.reshape(len(model.log_rate), -1)
    for c in np.flatnonzero(n.sum(axis=(0, 2)) > 0):                       # cells (10 at most), never children
        cats = np.flatnonzero(mix[c] > 0)                                  # only the (age, group) cells seen
        out[:, :, cats] += rng.multinomial(n[:, c, :], mix[c, cats] / mix[c, cats].sum())
    return out.reshape(draws, quarters, AGES, len(GROUPS))


def _split(rng: np.random.Generator, x: np.ndarray, p_go: np.ndarray, p_to: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stayers and the leavers and movers by outcome, for x (S, YEARS, 4, G, DUR). p_go (S, YEARS, G, DUR): the
    probability of not staying; p_to (S, YEARS, G, DUR, O - 1) the conditional probabilities, given not
    staying, of each later outcome against the rest (sequential binomials). Only non-empty states are drawn."""
    s_, y_, _, g_, d_ = x.shape
    gd = g_ * d_
    flat = x.reshape(-1)
    nz = np.flatnonzero(flat)
    pidx = (nz // (4 * gd)) * gd + nz % gd                               # the state's (S, YEARS, G, DUR) cell
    go = rng.binomial(flat[nz], p_go.reshape(-1)[pidx])
    stay = flat.copy()
    stay[nz] -= go
    live = go > 0
    nz, pidx, rest = nz[live], pidx[live], go[live]
    outs = np.zeros((p_to.shape[-1] + 1, flat.size), dtype=np.int64)
    p_to = p_to.reshape(-1, p_to.shape[-1])
    for k in range(p_to.shape[1]):
        drawn = rng.binomial(rest, p_to[pidx, k])
        outs[k, nz] = drawn
        rest = rest - drawn
    outs[-1, nz] = rest
    return stay.reshape(x.shape), outs.reshape(-1, *x.shape)


def simulate(stock: np.ndarray, trans: TransitionModel, entries: EntryModel, quarters: int,
             record: list[int], draws: int, rng: np.random.Generator) -> dict[int, np.ndarray]:
    """Children by (draws, AGES, G) after each quarter in `record` (1-based), from `stock` (AGES, G, DUR)."""
    probs = trans.draw(rng, draws).astype(np.float64)                      # (S, YEARS, G, DUR, O)
    p_go = 1.0 - probs[..., 0]
    # given not staying: leave care first, then a move to each group but the last, the rest move to the last
    order = [OUTCOMES - 1, *range(1, OUTCOMES - 1)]
    left = np.maximum(p_go, 1e-300)
    cond = []
    for o in order[:-1]:
        cond.append(np.clip(probs[..., o] / left, 0.0, 1.0))
        left = np.maximum(left - probs[..., o], 1e-300)
    p_to = np.stack(cond, axis=-1)
    arrivals = draw_entrants(rng, entries, draws, quarters)
    x = np.broadcast_to(stock.astype(np.int64), (draws, *stock.shape)).copy()
    out = {}
    g = len(GROUPS)
    for q in range(1, quarters + 1):
        stay, outs = _split(rng, x.reshape(draws, YEARS, 4, g, DUR), p_go, p_to)
        stay = stay.reshape(draws, AGES, g, DUR)
        new = np.zeros_like(x)
        new[:, 1:, :, 1:] = stay[:, :-1, :, :-1]
        new[:, 1:, :, DUR - 1] += stay[:, :-1, :, DUR - 1]
        for i, o in enumerate(order[1:], start=1):                         # movers start a placement of group o - 1
            new[:, 1:, o - 1, 0] += outs[i].reshape(draws, AGES, g * DUR)[:, :-1].sum(axis=-1)
        new[:, :, :, 0] += arrivals[:, q - 1]
        x = new
        if q in record:
            out[q] = x.sum(axis=-1)
    return out


def simulate_chunks(stock: np.ndarray, trans: TransitionModel, entries: EntryModel, quarters: int,
                    record: list[int], draws: int, seed: np.random.SeedSequence, chunks: int = 2,
                    jobs: Workers = 2) -> dict[int, np.ndarray]:
    """`simulate` in `chunks` independent parts (each its own stream spawned from `seed`), run on `jobs`
    threads (numpy's generators release the GIL) or the run's Dask scheduler; the result depends on
    chunks, never on jobs."""
    sizes = [draws // chunks + (i < draws % chunks) for i in range(chunks)]
    sizes = [n for n in sizes if n > 0]
    streams = [np.random.default_rng(s) for s in seed.spawn(len(sizes))]
    parts = parallel.run([delayed(simulate)(stock, trans, entries, quarters, record, n, rng)
                          for n, rng in zip(sizes, streams)], jobs, prefer="threads")
    return {q: np.concatenate([p[q] for p in parts]) for q in record}
