"""scipy.optimize.curve_fit baselines for bench_waveform_speed.py: the same template, the same
windows, the same noise, timed best of ``repeat`` passes like the fitter.

Three fits of a window, from the simplest job to the fitter's own:

- ``one_pulse``: even/odd pedestals + one template pulse (what a user fits when pile-up is
  ignored; wrong on a window with two pulses).
- ``true_model``: pedestals + as many pulses as the window truly has, started at the true
  values. Not a fit anyone can run (it is told the answer); the cheapest scipy can resolve the
  pile-up, a lower bound on any real search's cost.
- ``same_search``: the fitter's decisions made with curve_fit: one pulse; when its chi2 exceeds
  ndf + 3 sqrt(2 ndf) or the residual's largest two-sample bump exceeds 3.5 sigma (the fitter's
  ``pileup_chi2_sigma``, ``pileup_residual_sigma``), a pulse is added at that bump and the whole
  model refitted from the previous one, kept while it gains at least 25 in chi2
  (``pileup_dchi2``), up to 6 pulses (``max_pulses``).
"""

from __future__ import annotations

import time
import warnings
from typing import Callable

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

CHI2_SIGMA = 3.0
BUMP_SIGMA = 3.5
DCHI2 = 25.0
MAX_PULSES = 6


def best_rate(fit_all: Callable[[], int], n_fit: int, repeat: int) -> tuple[float, float, int]:
    """Best wall and best CPU rate of `repeat` passes of fit_all over n_fit windows, and the
    failures of one pass."""
    best_wall = best_cpu = np.inf
    fails = 0
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.thread_time()
        fails = fit_all()
        best_wall = min(best_wall, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.thread_time() - c0)
    return n_fit / best_wall, n_fit / best_cpu, fails


class Baselines:
    """curve_fit of ``tpl`` on windows sampled every ``dt_ns`` with white noise ``sigma``."""

    def __init__(self, tpl, width: int, dt_ns: float, sigma: float) -> None:
        self.tpl = tpl
        self.dt = dt_ns
        self.t = np.arange(width) * dt_ns
        self.even = np.arange(width) % 2 == 0
        self.sigma = np.full(width, sigma)

    def model(self, x, pe, po, *pulses):
        y = np.where(self.even, pe, po)
        for a, tp in zip(pulses[0::2], pulses[1::2]):
            y = y + a * self.tpl.value(x - tp)
        return y

    def one_pulse_start(self, y):
        k = int(np.argmax(y))
        return [float(y[0:4:2].mean()), float(y[1:4:2].mean()), float(y[k] - y[:4].mean()), k * self.dt]

    def _rate(self, fit_one: Callable[[int, np.ndarray], None], waves, n_fit: int, repeat: int):
        sub = waves[:n_fit].astype(np.float64)

        def fit_all() -> int:
            fails = 0
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", OptimizeWarning)
                for i, y in enumerate(sub):
                    try:
                        fit_one(i, y)
                    except RuntimeError:
                        fails += 1
            return fails

        return best_rate(fit_all, n_fit, repeat)

    def one_pulse(self, waves, n_fit: int, repeat: int):
        return self._rate(lambda i, y: curve_fit(self.model, self.t, y, p0=self.one_pulse_start(y),
                                                 sigma=self.sigma, maxfev=2000), waves, n_fit, repeat)

    def true_model(self, waves, amp, tau, n_fit: int, repeat: int):
        def fit_one(i, y):
            has = ~np.isnan(amp[i])
            p0 = [100.0, 104.0]
            for a, tp in zip(amp[i][has], tau[i][has]):
                p0 += [float(a), float(tp)]
            curve_fit(self.model, self.t, y, p0=p0, sigma=self.sigma, maxfev=4000)

        return self._rate(fit_one, waves, n_fit, repeat)

    def search(self, y) -> tuple[int, int]:
        """The pulse count the search ends with and its curve_fit calls (RuntimeError: the
        lone pulse failed)."""
        p, _ = curve_fit(self.model, self.t, y, p0=self.one_pulse_start(y), sigma=self.sigma, maxfev=2000)
        calls = 1
        pull = (y - self.model(self.t, *p)) / self.sigma
        chi2 = float(pull @ pull)
        ndf = len(y) - len(p)
        bump = (pull[:-1] + pull[1:]) / np.sqrt(2.0)
        if chi2 <= ndf + CHI2_SIGMA * np.sqrt(2.0 * ndf) and bump.max() <= BUMP_SIGMA:
            return 1, calls
        while len(p) < 2 + 2 * MAX_PULSES:
            j = int(np.argmax(bump))
            start = list(p) + [float(0.5 * (pull[j] + pull[j + 1]) * self.sigma[j]), (j + 0.5) * self.dt]
            try:
                q, _ = curve_fit(self.model, self.t, y, p0=start, sigma=self.sigma, maxfev=4000)
            except RuntimeError:
                break
            calls += 1
            pull_q = (y - self.model(self.t, *q)) / self.sigma
            chi2_q = float(pull_q @ pull_q)
            if chi2 - chi2_q < DCHI2:
                break
            p, pull, chi2 = q, pull_q, chi2_q
            bump = (pull[:-1] + pull[1:]) / np.sqrt(2.0)
        return (len(p) - 2) // 2, calls

    def same_search(self, waves, n_fit: int, repeat: int) -> dict[str, float]:
        """Rates as the others (``wall``, ``cpu``, ``fails``), and of the last pass: the
        fraction of windows ending with more than one pulse (``multi``), the mean curve_fit
        calls per window (``calls``) and the CPU rate without the slowest 5 % of the windows
        (``cpu_fastest95``: the search's cost has a long tail of multi-pulse fits), the CPU
        seconds of its median window and its mean multi-pulse window."""
        found = np.zeros(n_fit, dtype=np.int64)
        calls = np.zeros(n_fit, dtype=np.int64)
        seconds = np.zeros(n_fit)

        def fit_one(i, y):
            c0 = time.thread_time()
            try:
                found[i], calls[i] = self.search(y)
            finally:
                seconds[i] = time.thread_time() - c0

        rate_wall, rate_cpu, fails = self._rate(fit_one, waves, n_fit, repeat)
        kept = np.sort(seconds)[: max(1, int(0.95 * n_fit))]
        return {"wall": rate_wall, "cpu": rate_cpu, "fails": fails, "multi": float(np.mean(found > 1)),
                "calls": float(np.mean(calls)), "cpu_fastest95": kept.size / kept.sum(),
                "median_s": float(np.median(seconds)),
                "multi_s": float(seconds[found > 1].mean()) if np.any(found > 1) else float("nan")}
