"""Why simulated signal events fail the invisible-mode selection (diagnostic, SIMULATED runs).

Simulates truth-tagged signal events (E_miss 60-95 GeV) with the full truth pulse table, runs
the chain of ``na64reco reco`` (``pipeline.Reconstruction``; its stages hand over the
per-waveform results) and prints: the first failed cut, the calo_status bits, which fitter flags fire on which planes for the
waveforms that
``failed_fits`` judges bad, and whether those fits are actually wrong (the fitted in-time
amplitude against the simulated trigger-particle amplitude of the same channel).

    PYTHONPATH=$PWD python benchmarks/diag_signal_loss.py [--events 3000] [--rate 3e6] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import tempfile
from pathlib import Path

import numpy as np

import na64reco as nr
from na64reco.calo import STATUS_NAMES
from na64reco.calo.fit_bounds import amplitude_upper_bound, channel_pedestal, fixed_time_amplitude, template_peak_floor
from na64reco.config import load_config
from na64reco.detector import load_setup
from na64reco.pipeline import Reconstruction
from na64reco.selection import CutFlow
from na64reco.sim import SimConfig, read_truth, simulate
from na64reco.waveform import FLAGS, load_template

KIND_OF_PLANE = {"ECAL": "ecal", "HCAL": "hcal", "VETO": "veto", "SRD": "srd"}


def kind_of(name: str) -> str:
    for prefix, kind in KIND_OF_PLANE.items():
        if name.startswith(prefix):
            return kind
    return "counter"


def loss_by_pileup_distance(truth_path, truth, pos, matched, big, first_failed, cut_names, master, master_true) -> None:
    """Selected fraction and first failed cut versus the distance in time of the nearest other
    beam particle (truth), and how often the master time lies within 1 ns of the trigger
    particle's counter time."""
    parts = read_truth(truth_path, "particles")
    pile = np.asarray(parts["is_pileup"], bool)
    t_event = np.asarray(truth["event"], np.int64)
    nearest = np.full(t_event.size, np.inf)
    np.minimum.at(nearest, np.searchsorted(t_event, np.asarray(parts["event"], np.int64)[pile]),
                  np.abs(np.asarray(parts["dt_ns"])[pile]))  # fmt: skip
    dt = np.full(big.size, np.inf)
    dt[matched] = nearest[pos[matched]]
    print("\nloss versus the nearest other beam particle |dt| (truth); master ok = within 1 ns of the truth")
    print(f"{'|dt| ns':>10}{'events':>8}{'selected':>10}{'master ok':>11}{'sel|ok':>8}{'sel|bad':>8}  first failed cut of the lost events")
    edges = [0, 5, 10, 15, 20, 30, 50, 100, 200, np.inf]
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = big & (dt >= lo) & (dt < hi)
        if not m.any():
            continue
        lost = m & (first_failed >= 0)
        why = {cut_names[i]: int(np.count_nonzero(lost & (first_failed == i))) for i in range(len(cut_names))}
        why = ", ".join(f"{k} {v}" for k, v in why.items() if v)
        ok = np.abs(master - master_true) < 1.0
        sel_ok = (m & ok & (first_failed < 0)).sum() / max((m & ok).sum(), 1)
        sel_bad = (m & ~ok & (first_failed < 0)).sum() / max((m & ~ok).sum(), 1)
        print(f"{lo:>4g}-{hi:<5g}{int(m.sum()):>8}{(m & (first_failed < 0)).sum() / m.sum():>10.3f}"
              f"{ok[m].mean():>11.3f}{sel_ok:>8.3f}{sel_bad:>8.3f}  {why}")  # fmt: skip
        if lo == 10 and (m & ~ok).any():
            err = (master - master_true)[m & ~ok]
            print("    master - truth (ns) when not ok, 10-15 ns:", np.round(np.percentile(err, [5, 25, 50, 75, 95]), 1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=3000)
    ap.add_argument("--rate", type=float, default=3e6)
    ap.add_argument("--signal", type=float, default=1.0, help="signal fraction (0 = background electrons)")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="na64reco-diag-"))
    if args.workdir is None:  # the simulated files (GBs for large samples) go when the run ends
        atexit.register(shutil.rmtree, work, True)
    work.mkdir(parents=True, exist_ok=True)
    tag = f"{args.events}_{args.rate:g}_{args.signal:g}"
    raw, truth_path = work / f"diag_{tag}.dat", work / f"diag_{tag}.parquet"
    if not raw.exists():
        simulate(args.events, 11, raw, truth=truth_path, signal_fraction=args.signal, signal_spectrum="uniform",
                 signal_x_min=0.6, signal_x_max=0.95, hadron_fraction=0.0, muon_fraction=0.0, rate_hz=args.rate)  # fmt: skip
    cfg = SimConfig()
    run = cfg.run
    setup = load_setup(run)
    plane_names = list(setup.planes)
    templates = {k: load_template(k) for k in ("ecal", "hcal", "veto", "srd", "counter")}
    batches = list(nr.open_raw(raw).batches(10**7))
    assert len(batches) == 1
    # the chain of `na64reco reco`; its stages hand over what this diagnosis looks at
    outcome = Reconstruction(load_config())(batches[0])
    out = outcome.reco.events
    extras = outcome.extras
    n = out.nrows  # physics events
    digits = extras["digits"]
    plane = digits["plane"]
    (_, calo), = extras["calo"]  # one run
    events = calo.events
    failed = extras["failed_planes"]
    waves = extras["waves"]
    wave_rows = np.flatnonzero(waves["fitted"])
    wflags = np.asarray(waves["flags"])[wave_rows].astype(np.int64)
    wchi2 = np.asarray(waves["chi2_ndf"])[wave_rows]
    susp = np.asarray(waves["suspect"])[wave_rows]
    wave_of_digit = np.full(plane.size, -1, np.int64)
    wave_of_digit[wave_rows] = np.arange(wave_rows.size)
    fitted_pulses = extras["pulses"]  # amplitude >= waveform.min_amplitude
    pw = wave_of_digit[np.asarray(fitted_pulses["digit"])]
    pt = np.asarray(fitted_pulses["time_ns"])
    pa = np.asarray(fitted_pulses["amplitude"])
    flow = CutFlow.load()
    sel = flow.apply({k: v for k, v in out.items()})
    truth = read_truth(truth_path)
    key_t = np.asarray(truth["event"], np.int64)
    ev_in_run = np.asarray(out["event"], np.int64)
    pos = np.searchsorted(key_t, ev_in_run)
    pos = np.clip(pos, 0, key_t.size - 1)
    matched = key_t[pos] == ev_in_run
    big = np.zeros(n, dtype=bool)
    big[matched] = np.asarray(truth["e_missing"])[pos[matched]] > (60_000 if args.signal > 0 else -1)
    print(f"{n} events, {big.sum()} {'signal E_miss > 60 GeV' if args.signal > 0 else 'physics'}; "
          f"selected {sel.events['selected'][big].mean():.4f}")
    print(sel.format_table() if args.signal == 0 else "")
    ff = np.asarray(sel.events["first_failed"])[big]
    print("first failed cut:")
    for i, c in enumerate(flow.cuts):
        print(f"  {c.name:<16}{np.count_nonzero(ff == i):>6}")
    st = np.asarray(events["calo_status"])[big]
    print("calo_status bits:", {name: int(np.count_nonzero(st & bit)) for bit, name in STATUS_NAMES.items()})
    print("failed planes:", {plane_names[j]: int(failed[big, j].sum()) for j in range(len(plane_names))
                             if failed[big, j].any()})  # fmt: skip
    # per-waveform criteria, as failed_fits applies them
    s = np.asarray(digits["samples"])[wave_rows].astype(np.int64)
    rec = np.arange(s.shape[1])[None, :] < np.asarray(digits["nsamples"])[wave_rows][:, None]
    span = np.where(rec, s, 0).max(axis=1) - np.where(rec, s, 1 << 30).min(axis=1)
    ev_w = np.asarray(digits["event"])[wave_rows]
    pl_w = np.asarray(plane)[wave_rows]
    in_big = big[ev_w]
    crit = {
        "fit_failed": (wflags & FLAGS["fit_failed"]) != 0,
        "saturated": (wflags & FLAGS["saturated"]) != 0,
        "sat+pileup": ((wflags & FLAGS["saturated"]) != 0) & ((wflags & FLAGS["pileup"]) != 0),
        "chi2>3000": wchi2 > 3000,
    }
    print("\nwaveform criteria in signal events (span >= 50 ADC), per plane kind:")
    for name, m in crit.items():
        m = m & in_big & (span >= 50)
        by = {}
        for j in np.unique(pl_w[m]):
            by[plane_names[j]] = int(np.count_nonzero(m & (pl_w == j)))
        print(f"  {name:<12}{int(m.sum()):>6}  {by}")
    for name, bit in FLAGS.items():
        m = ((wflags & bit) != 0) & in_big & (span >= 50)
        print(f"  flag {name:<16}{int(m.sum()):>6}")
    # truth comparison: trigger-particle amplitude per channel vs fitted in-time amplitude
    tp = read_truth(truth_path, "pulses")
    tev = np.asarray(tp["event"], np.int64)
    key = lambda e, p, x, y: ((e * 64 + p) * 64 + x) * 64 + y  # noqa: E731
    trow = np.searchsorted(ev_in_run, tev)
    trow = np.clip(trow, 0, n - 1)
    ok = ev_in_run[trow] == tev
    tk = key(trow[ok], np.asarray(tp["plane"], np.int64)[ok], np.asarray(tp["x"], np.int64)[ok],
             np.asarray(tp["y"], np.int64)[ok])  # fmt: skip
    amp = np.asarray(tp["amplitude_adc"], np.float64)[ok]
    trig = ~np.asarray(tp["is_pileup"])[ok]
    ukeys, inv = np.unique(tk, return_inverse=True)
    trig_amp = np.bincount(inv, weights=np.where(trig, amp, 0.0), minlength=ukeys.size)
    pile_amp = np.bincount(inv, weights=np.where(trig, 0.0, amp), minlength=ukeys.size)
    wk = key(ev_w, pl_w.astype(np.int64), np.asarray(digits["x"])[wave_rows].astype(np.int64),
             np.asarray(digits["y"])[wave_rows].astype(np.int64))  # fmt: skip
    widx = np.searchsorted(ukeys, wk)
    widx = np.clip(widx, 0, max(ukeys.size - 1, 0))
    has = ukeys[widx] == wk
    t_trig = np.where(has, trig_amp[widx], 0.0)
    t_pile = np.where(has, pile_amp[widx], 0.0)
    # fitted in-time amplitude: pulses within 5 ns of the trigger particle's time in that
    # detector (truth ECAL time + the simulated detector offsets)
    t_ecal = np.zeros(n)
    t_ecal[matched] = np.asarray(truth["t_ecal_ns"])[pos[matched]]
    offsets = dict(zip(("ecal", "hcal", "veto", "srd", "counter"), cfg.detector_time_offsets_ns))
    plane_offset = np.array([offsets[kind_of(p)] for p in plane_names])
    t_true_w = t_ecal[ev_w] + plane_offset[pl_w]
    fit_amp = np.zeros(wave_rows.size)
    near = np.abs(pt - t_true_w[pw]) < 5.0
    np.add.at(fit_amp, pw[near], pa[near])
    print("\nfits vs truth (signal events, span >= 50 ADC): 'wrong' = |amplitude - truth| > max(10%, 30 ADC);")
    print("truth = the trigger particle's amplitude in that channel; refit = fixed-time refit at the true time")
    for kind in ("ecal", "hcal", "srd", "veto", "counter"):
        k_rows = np.array([kind_of(plane_names[j]) == kind for j in pl_w]) & in_big & (span >= 50)
        for label, m in (("suspect", k_rows & susp), ("not suspect", k_rows & ~susp)):
            if not m.any():
                continue
            tol = np.maximum(0.1 * t_trig[m], 30.0)
            wrong_fit = np.abs(fit_amp[m] - t_trig[m]) > tol
            line = f"  {kind:<8}{label:<12} n={int(m.sum()):>6}  fitter wrong {int(wrong_fit.sum()):>6}"
            if label == "suspect":
                refit = fixed_time_amplitude(s[m], np.asarray(digits["nsamples"])[wave_rows][m], t_true_w[m],
                                             templates[kind])  # fmt: skip
                wrong_refit = ~(np.abs(refit - t_trig[m]) <= tol)
                bound = amplitude_upper_bound(s[m], np.asarray(digits["nsamples"])[wave_rows][m], t_true_w[m] - 1.0,
                                              t_true_w[m] + 1.0, template_peak_floor(templates[kind]),
                                              pedestal=channel_pedestal(digits)[wave_rows][m],
                                              template=templates[kind])  # fmt: skip
                line += (f"  refit wrong {int(wrong_refit.sum()):>6}  bound below truth {int((bound < t_trig[m]).sum()):>4}"
                         f"  (saturated {int(((wflags[m] & FLAGS['saturated']) != 0).sum())})")  # fmt: skip
            print(line)
    # timing cut losers: e_bad source
    lost_t = big & (np.asarray(sel.events["first_failed"]) == [c.name for c in flow.cuts].index("timing"))
    print(f"\ntiming losers: {lost_t.sum()}, e_bad_ecal median {np.median(events['e_bad_ecal'][lost_t]):.2f}, "
          f"e_bad_hcal median {np.median(events['e_bad_hcal'][lost_t]):.2f} GeV")  # fmt: skip
    for name in ("ecal_max_cell", "srd", "quality"):
        i = [c.name for c in flow.cuts].index(name)
        lost = big & (np.asarray(sel.events["first_failed"]) == i)
        print(f"{name} losers {lost.sum()}: ecal_max_x/y {np.asarray(events['ecal_max_x'])[lost][:10]} "
              f"{np.asarray(events['ecal_max_y'])[lost][:10]} srd_min {np.asarray(events['srd_min'])[lost][:10]}")
    loss_by_pileup_distance(truth_path, truth, pos, matched, big, np.asarray(sel.events["first_failed"]),
                            [c.name for c in flow.cuts], np.asarray(events["master_time_ns"]),
                            t_ecal - cfg.detector_time_offsets_ns[0] + cfg.detector_time_offsets_ns[4])  # fmt: skip
    np.savez(work / f"diag_{tag}.npz", **{k: np.asarray(v) for k, v in events.to_dict().items() if np.asarray(v).ndim == 1},
             big=big, first_failed=np.asarray(sel.events["first_failed"]), w_flags=wflags, w_chi2=wchi2, w_span=span,
             w_event=ev_w, w_plane=pl_w, w_x=np.asarray(digits["x"])[wave_rows], w_y=np.asarray(digits["y"])[wave_rows],
             w_trig=t_trig, w_pile=t_pile, w_fit=fit_amp, p_wave=pw, p_time=pt, p_amp=pa, t_ecal=t_ecal,
             w_samples=s, e_ecal_true=np.where(matched, np.asarray(truth["e_ecal_true"])[pos], np.nan),
             e_hcal_true=np.where(matched, np.asarray(truth["e_hcal_true"])[pos], np.nan),
             failed=failed, truth_pos=np.where(matched, pos, -1), srd_module=np.asarray(events["srd_module"]))  # fmt: skip


if __name__ == "__main__":
    main()
