"""Accuracy of the calorimeter, straw and selection reconstruction on SIMULATED runs.

Full chain: na64reco.sim writes raw DATE files with truth -> decoder -> detector maps ->
waveform fits (per-detector templates, pile-up resolution) -> reconstruct_calo /
reconstruct_straws -> CutFlow, compared event by event with the simulator's truth.

    PYTHONPATH=$PWD python benchmarks/bench_reco_sim.py [--events 4000] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import na64reco as nr
from na64reco.calo import CaloConfig, calibration_from_setup, plane_presence, reconstruct_calo
from na64reco.calo.fit_bounds import (BOUND_PLANES, REFIT_PLANES, channel_pedestal, saturation_only_of_fit,
                                      suspect_table, suspects_of_fit, template_peak_floor)
from na64reco.calo.fit_options import fit_options
from na64reco.detector import load_setup
from na64reco.selection import CutFlow
from na64reco.sim import SimConfig, read_truth, simulate
from na64reco.straw import geometry_from_setup, load_rt, reconstruct_straws
from na64reco.waveform import WaveformFitter, load_template

# doubtful ECAL and SRD fits are re-measured at the expected time (fit_bounds.REFIT_PLANES)
# and bounded with their templates (fit_bounds.BOUND_PLANES)
CALO_CONFIG = CaloConfig(refit_templates={plane: load_template(kind) for plane, kind in REFIT_PLANES.items()},
                         bound_templates={plane: load_template(kind) for plane, kind in BOUND_PLANES.items()})


KIND_OF_PLANE = {"ECAL": "ecal", "HCAL": "hcal", "VETO": "veto", "SRD": "srd"}


def kind_of(name: str) -> str:
    for prefix, kind in KIND_OF_PLANE.items():
        if name.startswith(prefix):
            return kind
    return "counter"


def fit_digits(digits, kinds: np.ndarray, fitters: dict) -> dict[str, np.ndarray]:
    """Every digit fitted with its detector kind's fitter, as the pipeline's fit stage does,
    with the per-waveform arrays kept: wave_rows (digit row of each fitted waveform), flags,
    chi2_ndf, suspect, sat_only, floors; per pulse: pulse_wave (into wave_rows), pulse_time,
    and pulses_raw (digit row, amplitude, time, time error)."""
    rows_all, parts, flags, chi2_ndf, p_wave, p_time, floors, suspect, sat_only = [], [], [], [], [], [], [], [], []
    offset = 0
    for kind, fitter in fitters.items():
        rows = np.flatnonzero(kinds == kind)
        if not rows.size:
            continue
        res = fitter.fit(digits["samples"][rows], nsamples=digits["nsamples"][rows])
        p = res.pulses
        parts.append({"wave": rows[p["wave"]], "amplitude": p["amplitude"], "time_ns": p["time_ns"],
                      "time_err": p["time_err"]})  # fmt: skip
        rows_all.append(rows)
        floors.append(np.full(rows.size, template_peak_floor(fitter.template)))
        suspect.append(suspects_of_fit(kind, res.waves, p))
        sat_only.append(saturation_only_of_fit(kind, res.waves, p))
        flags.append(res.waves["flags"])
        chi2_ndf.append(res.waves["chi2"] / np.maximum(res.waves["ndf"], 1))
        p_wave.append(p["wave"] + offset)
        p_time.append(p["time_ns"])
        offset += rows.size
    return {
        "wave_rows": np.concatenate(rows_all), "flags": np.concatenate(flags).astype(np.int64),
        "chi2_ndf": np.concatenate(chi2_ndf), "suspect": np.concatenate(suspect), "sat_only": np.concatenate(sat_only),
        "floors": np.concatenate(floors), "pulse_wave": np.concatenate(p_wave), "pulse_time": np.concatenate(p_time),
        "pulses_raw": {k: np.concatenate([q[k] for q in parts]) for k in parts[0]},
    }  # fmt: skip


def calo_inputs(digits, fitted: dict, n: int, n_planes: int):
    """pulses, present, failed, suspects for reconstruct_calo from fit_digits' result."""
    rows = fitted["wave_rows"]
    pulses = nr.calo.pulse_table(digits, fitted["pulses_raw"])
    present = plane_presence(digits["event"], digits["plane"], n, n_planes)
    failed = nr.calo.failed_fits(digits, rows, fitted["flags"], n, n_planes, chi2_ndf=fitted["chi2_ndf"],
                                 pulse_wave=fitted["pulse_wave"], pulse_time_ns=fitted["pulse_time"])  # fmt: skip
    suspects = suspect_table(digits, rows, fitted["suspect"], fitted["floors"], channel_pedestal(digits)[rows],
                             fitted["sat_only"])  # fmt: skip
    return pulses, present, failed, suspects


def reconstruct_file(path: Path, run: int, noise_rms: float) -> dict[str, np.ndarray]:
    """Events (physics only) with reco columns, in file order."""
    setup = load_setup(run)
    cal = calibration_from_setup(run, setup)
    geo = geometry_from_setup(run, setup)
    rt = load_rt()
    fitters = {k: WaveformFitter(load_template(k), sampling_ns=12.5, noise_rms=noise_rms, pileup=True, **fit_options(k))
               for k in ("ecal", "hcal", "veto", "srd", "counter")}  # fmt: skip
    plane_kind = np.array([kind_of(p) for p in setup.planes] + ["unmapped"])
    flow = CutFlow.load()
    out: dict[str, list[np.ndarray]] = {}
    timing = {"fit": 0.0, "reco": 0.0}
    clusters_all = []
    for batch in nr.open_raw(path).batches(5000):
        ev = batch.events
        n = ev.nrows
        digits = setup.annotate_sadc(batch.sadc)
        plane = digits["plane"]
        kinds = plane_kind[np.where(plane >= 0, plane, len(setup.planes))]
        t0 = time.perf_counter()
        fitted = fit_digits(digits, kinds, fitters)
        t1 = time.perf_counter()
        pulses, present, failed, suspects = calo_inputs(digits, fitted, n, len(setup.planes))
        calo = reconstruct_calo(pulses, n, cal, spills=ev["spill"], present=present, failed=failed, suspects=suspects,
                                config=CALO_CONFIG)
        tdc = setup.annotate_tdc(batch.tdc)
        straw = reconstruct_straws(tdc, n, geo, rt)
        events = calo.events.with_columns(**straw.events.to_dict())
        sel = flow.apply(events)
        t2 = time.perf_counter()
        timing["fit"] += t1 - t0
        timing["reco"] += t2 - t1
        phys = ev["type"] == 7
        cols = {**events.to_dict(), **sel.events.to_dict(), "spill": ev["spill"], "event": ev["event_in_run"]}
        for k, v in cols.items():
            out.setdefault(k, []).append(np.asarray(v)[phys])
        # per-cluster residuals need the truth: keep straw clusters with their event key
        cl = straw.clusters
        keep = phys[cl.event]
        clusters_all.append({**{k: v[keep] for k, v in cl.to_dict().items()}, "spill": ev["spill"][cl.event[keep]],
                             "event": ev["event_in_run"][cl.event[keep]]})  # fmt: skip
    result = {k: np.concatenate(v) for k, v in out.items()}
    result["_clusters"] = {k: np.concatenate([c[k] for c in clusters_all]) for k in clusters_all[0]}  # type: ignore[assignment]
    result["_geometry"] = geo  # type: ignore[assignment]
    result["_timing"] = timing  # type: ignore[assignment]
    return result


def joined(path: Path, truth_path: Path, run: int, noise: float):
    reco = reconstruct_file(path, run, noise)
    truth = read_truth(truth_path)
    key_r = reco["spill"].astype(np.int64) * 10_000_000 + reco["event"].astype(np.int64)
    key_t = np.asarray(truth["spill"], np.int64) * 10_000_000 + np.asarray(truth["event"], np.int64)
    order = np.argsort(key_t)
    pos = order[np.searchsorted(key_t, key_r, sorter=order)]
    if not np.array_equal(key_t[pos], key_r):
        raise RuntimeError("reco events and truth events do not match")
    t = {k: np.asarray(v)[pos] for k, v in truth.items() if np.asarray(v).ndim == 1}
    return reco, t


def core_sigma(x: np.ndarray) -> tuple[float, float]:
    x = x[np.isfinite(x)]
    m, s = np.mean(x), np.std(x)
    for _ in range(10):
        sel = np.abs(x - m) < 2.5 * s
        m, s = np.mean(x[sel]), np.std(x[sel])
    return float(m), float(s / 0.9494)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=4000)
    ap.add_argument("--background-events", type=int, default=0, help="electron events for the leakage (default: --events)")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="na64reco-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    n = args.events
    cfg = SimConfig()
    run = cfg.run
    print(f"SIMULATED runs (na64reco.sim, run {run}): {n} events each, beam {cfg.beam_energy_gev} GeV, "
          f"pile-up rate {cfg.rate_hz:.1e}/s, ECAL {cfg.ecal_stochastic:.2f}/sqrt(E) (+) {cfg.ecal_constant}")  # fmt: skip
    samples = {
        "electrons": dict(signal_fraction=0.0),
        "electrons, no pile-up": dict(signal_fraction=0.0, rate_hz=0.0),
        "signal E_miss 60-95 GeV": dict(signal_fraction=1.0, signal_spectrum="uniform", signal_x_min=0.6,
                                         signal_x_max=0.95, hadron_fraction=0.0, muon_fraction=0.0),
        "hadrons": dict(hadron_fraction=1.0, muon_fraction=0.0),
        "signal E_miss 60-95 GeV, 1 MHz": dict(signal_fraction=1.0, signal_spectrum="uniform", signal_x_min=0.6,
                                               signal_x_max=0.95, hadron_fraction=0.0, muon_fraction=0.0,
                                               rate_hz=1.0e6),
    }  # fmt: skip
    results = {}
    for i, (name, over) in enumerate(samples.items()):
        raw, truth = work / f"s{i}.dat", work / f"s{i}.parquet"
        count = (args.background_events or n) if name == "electrons" else n
        if not raw.exists():
            simulate(count, 100 + i, raw, truth=truth, truth_pulses=False, **over)
        results[name] = joined(raw, truth, run, cfg.noise_rms_adc)

    print("\n== ECAL energy (GeV) vs the simulated deposit of the trigger particle (events with calo_status 0) ==")
    print(f"{'sample':<24}{'<E_reco/E_true>':>16}{'sig(E_reco-E_true)/E':>22}{'sig(E_true)/E':>15}"
          f"{'sig(E_reco)/E':>15}{'ratio':>7}")  # fmt: skip
    for name in ("electrons", "electrons, no pile-up"):
        reco, t = results[name]
        e_true = t["e_ecal_true"] / 1000.0
        ok = (reco["calo_status"] == 0) & (e_true > 1)
        m, _ = core_sigma(reco["e_ecal"][ok] / e_true[ok])
        _, s_diff = core_sigma((reco["e_ecal"][ok] - e_true[ok]) / e_true[ok])
        mt, st = core_sigma(e_true[ok])
        mr, sr = core_sigma(reco["e_ecal"][ok])
        print(f"{name:<24}{m:>16.4f}{s_diff:>22.4f}{st / mt:>15.4f}{sr / mr:>15.4f}{(sr / mr) / (st / mt):>7.3f}")
    print("sig(E_true)/E is the simulated intrinsic resolution (with the 1% beam spread);")
    print("ratio = sig(E_reco)/sig(E_true), target <= 1.10")

    print("\n== ECAL position (mm) vs the true impact (electrons) ==")
    reco, t = results["electrons"]
    ok = np.isfinite(reco["ecal_x"]) & (reco["calo_status"] == 0)
    zf = 0.0
    tx = t["x0"] + t["tx"] * zf
    ty = t["y0"] + t["ty"] * zf
    print(f"sigma x {core_sigma(reco['ecal_x'][ok] - tx[ok])[1]:.3f}  sigma y {core_sigma(reco['ecal_y'][ok] - ty[ok])[1]:.3f}"
          f"  bias x {np.median(reco['ecal_x'][ok] - tx[ok]):.3f}  (target < 3 mm)")  # fmt: skip

    print("\n== Straws (electrons) ==")
    cl = reco["_clusters"]
    geo = reco["_geometry"]
    key_c = cl["spill"].astype(np.int64) * 10_000_000 + cl["event"].astype(np.int64)
    key_r = reco["spill"].astype(np.int64) * 10_000_000 + reco["event"].astype(np.int64)
    idx = np.searchsorted(key_r, key_c)
    g = geo.arrays()
    u_true = np.where(g["axis"][cl["plane"]] == 0, t["x0"][idx] + t["tx"][idx] * cl["z"], t["y0"][idx] + t["ty"][idx] * cl["z"])
    two = (cl["n_hits"] == 2) & (cl["ambiguous"] == 0) & (t["n_pileup"][idx] == 0)
    _, s_pt = core_sigma(cl["u"][two] - u_true[two])
    print(f"doublet point sigma {s_pt:.4f} mm; sigma_r/sqrt(2) = {cfg.straw_sigma_r_mm / np.sqrt(2):.4f}; "
          f"ratio {s_pt / (cfg.straw_sigma_r_mm / np.sqrt(2)):.3f} (target <= 1.20)")  # fmt: skip
    seg = reco["seg_ok"]
    good = seg & (np.abs(reco["seg_x0"] - t["x0"]) < 2.0) & (np.abs(reco["seg_y0"] - t["y0"]) < 2.0)
    print(f"segment efficiency {seg.mean():.4f}, within 2 mm of the true impact at the ECAL {good.mean():.4f}; "
          f"sigma x0 {core_sigma(reco['seg_x0'][seg] - t['x0'][seg])[1]:.3f} mm, "
          f"sigma tx {1e6 * core_sigma(reco['seg_tx'][seg] - t['tx'][seg])[1]:.1f} urad")  # fmt: skip

    print("\n== Selection ==")
    print(f"{'sample':<34}{'events':>8}{'selected':>10}{'fraction':>12}")
    for name in ("signal E_miss 60-95 GeV", "signal E_miss 60-95 GeV, 1 MHz"):
        sig, st = results[name]
        big = st["e_missing"] > 60_000
        label = "signal E_miss > 60 GeV" + (", 1 MHz" if "1 MHz" in name else ", 3 MHz")
        print(f"{label:<34}{big.sum():>8}{sig['selected'][big].sum():>10}{sig['selected'][big].mean():>12.4f}")
    flow = CutFlow.load()
    for name in ("signal E_miss 60-95 GeV", "electrons", "hadrons"):
        cols = {k: v for k, v in results[name][0].items() if not k.startswith("_")}
        print(f"\ncut flow, {name}:")
        print(flow.apply(cols).format_table())
    # how far the background stays from the box: the smallest ECAL energy (its largest possible
    # in-time value) among background events that pass every cut before the ECAL box
    box = [c.name for c in flow.cuts].index("e_ecal")
    for name in ("electrons", "hadrons"):
        r = {k: v for k, v in results[name][0].items() if not k.startswith("_")}
        ff = flow.apply(r).events["first_failed"]
        reach = (ff < 0) | (ff >= box)
        low = np.min(r["e_ecal_max"][reach]) if reach.any() else np.nan
        print(f"{name}: {int(reach.sum())} events reach the ECAL box; smallest e_ecal_max among them {low:.1f} GeV")
    for name in ("electrons", "hadrons"):
        r, _ = results[name]
        k = int(r["selected"].sum())
        print(f"{name:<34}{r['selected'].size:>8}{k:>10}{k / r['selected'].size:>12.2e}")
    print("targets: signal > 0.90; background leakage < 1e-4 (with these sample sizes, 0 events selected")
    print("         means < 2.3/N at 90% CL)")
    timing = results["electrons"][0]["_timing"]
    print(f"\ntime in waveform fits {timing['fit']:.1f} s, in reco + selection {timing['reco']:.2f} s ({n} events)")


if __name__ == "__main__":
    main()
