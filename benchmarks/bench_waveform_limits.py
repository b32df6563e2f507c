"""The waveform fitter at the limits of its windows, for every detector template.

Prints, per template (default fitter, white noise sigma = 2 ADC, digitised samples):
- pairs of pulses 20 and 25 ns apart (400+400, 200+400, 400+200 ADC): resolved as two, and
  left far off (chi2 more than 50 above its ndf);
- a lone pulse anywhere from 20 ns before the first sample to past the last: fit_failed, and
  found (time within 3 ns, amplitude within 10 %) when it peaks inside and is above 20 sigma;
- windows of pure noise: windows with a pulse, the largest such amplitude, fit_failed;
- noise and a pulse peaking within a sample after the window: fit_failed, pulses made up
  before 370 ns;
- a 300 ADC pulse at 100-140 ns and a 400 ADC pulse peaking just after the window: fit_failed,
  the 300 ADC pulse found.

Run: PYTHONPATH=$PWD python benchmarks/bench_waveform_limits.py [--n 1000]
"""

from __future__ import annotations

import argparse

import numpy as np

import na64reco as nr
from na64reco.waveform import FLAGS, load_template, simulate_windows

KINDS = ("counter", "veto", "srd", "ecal", "hcal")


def found_near(res, tau, amp, n):
    """Per window: a fitted pulse within 3 ns and 10 % of (tau, amp) of that window."""
    p = res.pulses
    wave = np.asarray(p["wave"])
    near = (np.abs(np.asarray(p["time_ns"]) - tau[wave]) < 3.0) & (
        np.abs(np.asarray(p["amplitude"]) / amp[wave] - 1.0) < 0.1
    )
    found = np.zeros(n, bool)
    found[wave[near]] = True
    return found


def failed(res):
    return int(np.count_nonzero(np.asarray(res.flags) & FLAGS["fit_failed"]))


def pairs(kind, fitter, tpl, n, rng):
    cells = []
    for sep in (20.0, 25.0):
        for amps in ((400.0, 400.0), (200.0, 400.0), (400.0, 200.0)):
            t1 = rng.uniform(100.0, 200.0, n)
            res = fitter.fit(simulate_windows(tpl, np.tile(amps, (n, 1)), np.stack([t1, t1 + sep], axis=1), rng=rng))
            two = np.mean(np.asarray(res.npulses) == 2)
            far = np.mean(np.asarray(res.waves["chi2"]) > np.asarray(res.waves["ndf"]) + 50)
            cells.append(f"{sep:.0f} ns {amps[0]:.0f}+{amps[1]:.0f}: {100 * two:5.1f} % ({100 * far:.1f} % far off)")
    print("  pairs           " + "; ".join(cells[:3]))
    print("                  " + "; ".join(cells[3:]))


def lone(kind, fitter, tpl, n, rng):
    amp = np.exp(rng.uniform(np.log(15.0), np.log(3800.0), n))
    tau = rng.uniform(-20.0, 400.0, n)
    windows = simulate_windows(tpl, amp[:, None], tau[:, None], rng=rng, pedestal_even=100.0, pedestal_odd=104.0)
    res = fitter.fit(windows)
    flags = np.asarray(res.flags)
    inside = (tau > 5.0) & (tau < 380.0) & (amp > 40.0) & ((flags & FLAGS["saturated"]) == 0)
    found = found_near(res, tau, amp, n)
    print(f"  lone pulse      fit_failed {failed(res)} of {n};"
          f" found {100 * found[inside].mean():.2f} % of those inside, > 20 sigma")


def noise(kind, fitter, tpl, n, rng):
    w = np.clip(np.round(100.0 + rng.normal(0.0, 2.0, (n, 32))), 0, 4095).astype(np.uint16)
    res = fitter.fit(w)
    amp = np.asarray(res.pulses["amplitude"])
    print(f"  pure noise      with a pulse {100 * np.mean(np.asarray(res.npulses) > 0):.2f} %,"
          f" largest {amp.max() if amp.size else 0:.0f} ADC, fit_failed {failed(res)} of {n}")


def edge_only(kind, fitter, tpl, n, rng):
    amp = np.exp(rng.uniform(np.log(20.0), np.log(3000.0), n))
    res = fitter.fit(simulate_windows(tpl, amp[:, None], rng.uniform(388.0, 405.0, n)[:, None], rng=rng))
    made_up = int(np.count_nonzero(np.asarray(res.pulses["time_ns"]) < 370.0))
    print(f"  noise + edge    fit_failed {failed(res)} of {n}; pulses made up before 370 ns: {made_up}")


def pulse_and_edge(kind, fitter, tpl, n, rng):
    t1 = rng.uniform(100.0, 140.0, n)
    t2 = rng.uniform(385.0, 400.0, n)
    res = fitter.fit(simulate_windows(tpl, np.tile([300.0, 400.0], (n, 1)), np.stack([t1, t2], axis=1), rng=rng))
    found = found_near(res, t1, np.full(n, 300.0), n)
    print(f"  pulse + edge    fit_failed {failed(res)} of {n}; the 300 ADC pulse found in {100 * found.mean():.1f} %")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="windows per case (pure noise and lone pulses: 5x)")
    args = ap.parse_args()
    for kind in KINDS:
        tpl = load_template(kind)
        fitter = nr.WaveformFitter(tpl, noise_rms=2.0)
        rng = np.random.default_rng(21)
        print(f"== {kind} ==")
        pairs(kind, fitter, tpl, args.n, rng)
        lone(kind, fitter, tpl, 5 * args.n, rng)
        noise(kind, fitter, tpl, 5 * args.n, rng)
        edge_only(kind, fitter, tpl, args.n, rng)
        pulse_and_edge(kind, fitter, tpl, args.n, rng)


if __name__ == "__main__":
    main()
