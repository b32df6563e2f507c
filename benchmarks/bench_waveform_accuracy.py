"""Accuracy of the waveform fitter on simulated pulses with known truth.

Prints three tables: isolated pulses (bias and resolution against the Cramer-Rao bound),
two-pulse resolution (efficiency and amplitude accuracy vs separation and ratio), and the
fake pile-up rate on isolated pulses; then the figures of windows whose first samples hold
the tail of a large pulse from before the window (in-time amplitude and pedestal errors). Run: PYTHONPATH=$PWD python benchmarks/bench_waveform_accuracy.py
"""

from __future__ import annotations

import argparse

import numpy as np

import na64reco as nr
from na64reco.waveform import cramer_rao_bound, load_template, simulate_windows

SIGMA = 2.0
DT = 12.5


def isolated(tpl, rng, n):
    print("\n== isolated pulses (white noise sigma = 2 ADC, even/odd pedestals 100/104, float samples) ==")
    print(f"{'A/sigma':>8} {'bias %':>8} {'rmsA':>8} {'CRB A':>8} {'ratio':>6} {'rms t ns':>9} {'CRB t':>8} {'ratio':>6} {'pileup %':>8}")
    fitter = nr.WaveformFitter(tpl, noise_rms=SIGMA)
    ok = True
    for a_sigma in (10, 20, 50, 100, 300, 1000):
        amp = np.full(n, a_sigma * SIGMA)
        tau = rng.uniform(60.0, 250.0, n)
        w = simulate_windows(tpl, amp, tau, rng=rng, noise_rms=SIGMA, pedestal_even=100.0, pedestal_odd=104.0,
                             digitize=False)
        r = fitter.fit(w)
        crb_a, crb_t = cramer_rao_bound(tpl, amp, tau, noise_rms=SIGMA)
        da, dtau = r.amplitude - amp, r.time_ns - tau
        bias = 100 * np.mean(da) / amp[0]
        rms_a, rms_t = np.std(da), np.std(dtau)
        bound_a, bound_t = np.sqrt(np.mean(crb_a**2)), np.sqrt(np.mean(crb_t**2))
        fake = 100 * np.mean(r.npulses > 1)
        ra, rt = rms_a / bound_a, rms_t / bound_t
        ok &= abs(bias) < 0.5 and ra < 1.10 and rt < 1.20 and fake < 1.0
        print(f"{a_sigma:8d} {bias:8.3f} {rms_a:8.3f} {bound_a:8.3f} {ra:6.3f} {rms_t:9.4f} {bound_t:8.4f} {rt:6.3f} {fake:8.2f}")
    print("targets: |bias| < 0.5 %, rms/CRB < 1.10 (amplitude), < 1.20 (time), fake pile-up < 1 %:",
          "MET" if ok else "NOT MET")


def two_pulses(tpl, rng, n):
    print("\n== two pulses (digitised 12-bit samples, smaller pulse >= 10 sigma) ==")
    print("eff: windows resolved as exactly two pulses; matched: both fitted times within 10 ns of the truth")
    print("med dA: median relative amplitude error of the first / second pulse (matched windows)")
    print(f"{'sep ns':>7} {'ratio':>6} {'A_small':>8} {'order':>12} {'eff %':>7} {'match %':>8} {'med dA1 %':>10} {'med dA2 %':>10}")
    fitter = nr.WaveformFitter(tpl, noise_rms=SIGMA)
    worst_eff, worst_med, worst_match = 100.0, 0.0, 100.0
    for sep in (25.0, 37.5, 50.0, 75.0, 125.0):
        for ratio in (0.1, 0.3, 1.0):
            for a_small in (10 * SIGMA, 50 * SIGMA):
                a_large = a_small / ratio
                if a_large > 3500:
                    continue
                for order in ("large first", "small first"):
                    t1 = rng.uniform(60.0, 200.0, n)
                    t2 = t1 + sep
                    a1 = np.full(n, a_large if order == "large first" else a_small)
                    a2 = np.full(n, a_small if order == "large first" else a_large)
                    w = simulate_windows(tpl, np.stack([a1, a2], 1), np.stack([t1, t2], 1), rng=rng,
                                         noise_rms=SIGMA, pedestal_even=100.0, pedestal_odd=104.0)
                    r = fitter.fit(w)
                    p = r.pulses
                    two = r.npulses == 2
                    # match: the two fitted pulses, in time order, within 10 ns of the truth
                    idx = np.flatnonzero(two[p.wave])
                    first = idx[::2]
                    second = idx[1::2]
                    wv = p.wave[first]
                    good = (np.abs(p.time_ns[first] - t1[wv]) < 10.0) & (np.abs(p.time_ns[second] - t2[wv]) < 10.0)
                    eff = 100 * two.mean()
                    match = 100 * good.sum() / n
                    d1 = 100 * np.median(p.amplitude[first][good] / a1[wv][good] - 1) if good.any() else np.nan
                    d2 = 100 * np.median(p.amplitude[second][good] / a2[wv][good] - 1) if good.any() else np.nan
                    worst_eff = min(worst_eff, eff)
                    worst_med = max(worst_med, abs(d1), abs(d2))
                    worst_match = min(worst_match, match)
                    print(f"{sep:7.1f} {ratio:6.2f} {a_small:8.0f} {order:>12} {eff:7.1f} {match:8.1f} {d1:10.2f} {d2:10.2f}")
    print(f"worst efficiency {worst_eff:.1f} % (target >= 95; worst matched {worst_match:.1f} %), "
          f"worst |median amplitude error| {worst_med:.2f} % (target <= 2):",
          "MET" if worst_eff >= 95 and worst_med <= 2 else "NOT MET")


def fake_pileup(tpl, rng, n):
    print("\n== fake pile-up on isolated pulses (digitised, amplitudes log-uniform 20..3000 ADC) ==")
    fitter = nr.WaveformFitter(tpl, noise_rms=SIGMA)
    amp = np.exp(rng.uniform(np.log(20.0), np.log(3000.0), n))
    tau = rng.uniform(0.0, 31 * DT, n)
    w = simulate_windows(tpl, amp, tau, rng=rng, noise_rms=SIGMA, pedestal_even=100.0, pedestal_odd=104.0)
    r = fitter.fit(w)
    unsat = ~((r.flags & nr.waveform.FLAGS["saturated"]) > 0)
    fake = 100 * np.mean(r.npulses[unsat] > 1)
    print(f"waveforms {unsat.sum()}, found more than one pulse: {fake:.3f} % (target < 1 %):",
          "MET" if fake < 1 else "NOT MET")


def pulse_before_window(tpl, rng, n):
    print("\n== a large pulse peaking 5-60 ns before the first sample + the in-time pulse (digitised) ==")
    print("early amplitude log-uniform 100..3500 ADC (only its tail is in the window), in-time pulse "
          "log-uniform 20..2500 ADC at 130..170 ns")
    fitter = nr.WaveformFitter(tpl, noise_rms=SIGMA)
    a_early = np.exp(rng.uniform(np.log(100.0), np.log(3500.0), n))
    t_early = rng.uniform(-60.0, -5.0, n)
    a_main = np.exp(rng.uniform(np.log(20.0), np.log(2500.0), n))
    t_main = rng.uniform(130.0, 170.0, n)
    w = simulate_windows(tpl, np.stack([a_early, a_main], 1), np.stack([t_early, t_main], 1), rng=rng,
                         noise_rms=SIGMA, pedestal_even=100.0, pedestal_odd=104.0)
    r = fitter.fit(w)
    rel = np.abs(r.amplitude / a_main - 1.0) * 100
    ped = np.abs(np.concatenate([r.pedestal_even - 100.0, r.pedestal_odd - 104.0]))
    print(f"windows {n}: resolved as two pulses {100 * np.mean(r.npulses == 2):.1f} %, "
          f"chi2/ndf > 2 in {100 * np.mean(r.chi2 / np.maximum(r.ndf, 1) > 2):.2f} %")
    print(f"in-time amplitude |error|: median {np.median(rel):.2f} %, 90 % {np.percentile(rel, 90):.2f} %, "
          f"> 5 % in {np.mean(rel > 5) * 100:.2f} %; pedestal |error|: 90 % {np.percentile(ped, 90):.2f} ADC, "
          f"99 % {np.percentile(ped, 99):.2f} ADC")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=4000, help="waveforms per table row")
    ap.add_argument("--template", default="ecal")
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    tpl = load_template(args.template)
    rng = np.random.default_rng(args.seed)
    isolated(tpl, rng, args.n)
    two_pulses(tpl, rng, args.n // 4)
    fake_pileup(tpl, rng, 10 * args.n)
    pulse_before_window(tpl, rng, args.n)


if __name__ == "__main__":
    main()
