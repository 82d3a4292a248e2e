"""Experiment (d): over-parameterization recovers systems outside the Pac-Man region.

Targets: order 20, ten conjugate pairs of roots on the circle of radius 0.95 at
uniform random angles (far outside the Pac-Man region), C ~ N(0, I) scaled to unit
H2 norm, noise 0.1, T = 500 and burn-in T/4 as in ``paper_experiment.py``.
Learners, all inside the region: projected SGD on fresh sequences (2000 steps of 4
sequences, lr 0.05, as there) and the fast solver (``gauss_newton``, region='pacman')
on N = 64 stored sequences, at learning orders 20, 25, 30, 40, each then reduced to
order 20 by balanced truncation (``learnlds.reduce``). Scores of the order-20 result:
relative impulse-response error ||r_hat - r|| / ||r|| and excess population risk.
Learning order 20 is the baseline (no over-parameterization). Writes
``examples/output/overparam_experiment.{png,md}``.

    python examples/overparam_experiment.py [--systems 3] [--seed 0]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

from learnlds import CanonicalSystem, PacmanRegion, gauss_newton, population_risk, projected_sgd
from learnlds.reduce import reduce
from learnlds.train import fresh_batches

OUT = Path(__file__).parent / "output"
ORDER, RADIUS, T, NOISE = 20, 0.95, 500, 0.1
ORDERS = (20, 25, 30, 40)


def target(random_state: int) -> CanonicalSystem:
    """Order 20, roots on |z| = 0.95 at random angles, unit H2 norm (outside the region)."""
    rng = np.random.default_rng(random_state)
    roots = RADIUS * np.exp(1j * rng.uniform(0.0, np.pi, ORDER // 2))
    a = np.real(np.poly(np.concatenate((roots, roots.conj()))))[1:]
    truth = CanonicalSystem(a, rng.normal(size=ORDER))
    return truth.with_params(c=truth.c / truth.h2_norm())


def scores(model: CanonicalSystem, truth: CanonicalSystem, horizon: int = 3000) -> dict:
    """Reduce ``model`` to the truth's order; relative impulse-response error, excess risk."""
    reduced = reduce(model, truth.order) if model.order > truth.order else model
    r = truth.markov(horizon)
    err = float(np.linalg.norm(reduced.markov(horizon) - r) / np.linalg.norm(r))
    risk = population_risk(reduced, truth, T, T // 4, NOISE) - NOISE**2
    return {"ir_error": err, "excess_risk": float(risk)}


def learn(truth: CanonicalSystem, order: int, seed: int, *, steps: int, sequences: int) -> dict:
    """Both learners at one learning order, in the region; scores after reduction."""
    rng = np.random.default_rng(1000 + seed)
    u = rng.normal(size=(sequences, T))
    y = truth.simulate(u, sequences=True, noise_std=NOISE, random_state=rng)
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter / SGD convergence notes
        t0 = time.perf_counter()
        gn = gauss_newton(u, y, order=order, burn_in=T // 4, region="pacman", sequences=True)
        out["fast solver"] = {**scores(gn.model, truth), "seconds": time.perf_counter() - t0}
        t0 = time.perf_counter()
        sgd = projected_sgd(
            fresh_batches(truth, T, batch_size=4, noise_std=NOISE),
            order=order, steps=steps, lr=0.05, burn_in=T // 4, region="pacman",
            random_state=seed,
        )  # fmt: skip
        out["projected SGD"] = {**scores(sgd.model, truth), "seconds": time.perf_counter() - t0}
    return out


def run(
    systems: int = 3,
    seed: int = 0,
    orders: tuple[int, ...] = ORDERS,
    steps: int = 2000,
    sequences: int = 64,
    log=print,
) -> dict:
    """``results[method][order]``: arrays over the systems of the two scores."""
    results: dict = {}
    for s in range(systems):
        truth = target(seed + s)
        log(f"system {s}: Pac-Man margin {PacmanRegion().margin(truth.a):.3g} (outside)")
        for m in orders:
            for method, sc in learn(truth, m, seed + s, steps=steps, sequences=sequences).items():
                cell = results.setdefault(method, {}).setdefault(
                    m, {"ir_error": [], "excess_risk": []}
                )
                cell["ir_error"].append(sc["ir_error"])
                cell["excess_risk"].append(sc["excess_risk"])
                log(
                    f"  order {m:2d} {method:13s} impulse-response error {sc['ir_error']:.4f}  "
                    f"excess risk {sc['excess_risk']:.3g}  ({sc['seconds']:.1f} s)"
                )
    return results


def table(results: dict) -> str:
    """Markdown: median (over systems) of both scores per method and learning order."""
    lines = [
        "| method | learning order | impulse-response error (median) | excess risk (median) |",
        "|---|---|---|---|",
    ]
    for method, by_order in results.items():
        for m, cell in by_order.items():
            lines.append(
                f"| {method} | {m}{' (baseline)' if m == ORDER else ''} | "
                f"{np.median(cell['ir_error']):.4f} | {np.median(cell['excess_risk']):.3g} |"
            )
    return "\n".join(lines)


def plot(results: dict, path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9.5, 3.8), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2)
    for ax, key, label in (
        (axes[0], "ir_error", "impulse-response error ||r_hat - r|| / ||r||"),
        (axes[1], "excess_risk", "excess population risk"),
    ):
        for (method, by_order), mk in zip(results.items(), ("o-", "s--"), strict=False):
            orders = np.array(sorted(by_order))
            med = np.array([np.median(by_order[m][key]) for m in orders])
            ax.semilogy(orders, med, mk, label=f"{method} (median)")
            for m in orders:
                ax.semilogy([m] * len(by_order[m][key]), by_order[m][key], ".", color="0.6")
            ax.axhline(med[0], color="0.4", lw=0.8, ls=":")
        ax.set_xlabel("learning order (then reduced to 20)")
        ax.set_ylabel(label)
        ax.set_xticks(sorted(next(iter(results.values()))))
        ax.legend(fontsize=8)
    fig.suptitle("order-20 targets, roots on |z| = 0.95 (outside the region); dotted: order 20")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--systems", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    t0 = time.perf_counter()
    res = run(args.systems, args.seed)
    text = table(res)
    print(text)
    plot(res, OUT / "overparam_experiment.png")
    (OUT / "overparam_experiment.md").write_text(
        f"Command: python examples/overparam_experiment.py --systems {args.systems} "
        f"--seed {args.seed} ({time.perf_counter() - t0:.0f} s)\n\n{text}\n",
        encoding="utf-8",
    )
    print(f"plot: {OUT / 'overparam_experiment.png'}")
