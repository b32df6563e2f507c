"""Accuracy of the calorimeter, straw and selection reconstruction against truth.

Inputs are TOY events from na64reco.selection.synthetic (fitted-pulse level: showers with a
known lateral profile and intrinsic resolution, pile-up electrons at random times, straight
tracks through staggered straw doublets) -- not the full simulator. Prints one table per
study with the targets of the issue.

    PYTHONPATH=$PWD python benchmarks/bench_reco_accuracy.py [--scale 1.0]
"""

from __future__ import annotations

import argparse

import numpy as np

from na64reco.calo import load_calibration, reconstruct_calo
from na64reco.selection import CutFlow
from na64reco.selection.synthetic import (
    PARTICLE_ELECTRON,
    PARTICLE_HADRON,
    PARTICLE_SIGNAL,
    ToyBeam,
    toy_events,
)
from na64reco.straw import TOY_GEOMETRY, load_geometry, load_rt, reconstruct_straws
from na64reco.straw.synthetic import straight_tracks


def core_sigma(x: np.ndarray) -> tuple[float, float]:
    """Mean and sigma of the Gaussian core: iterated 2.5-sigma truncation."""
    x = x[np.isfinite(x)]
    m, s = np.mean(x), np.std(x)
    for _ in range(10):
        sel = np.abs(x - m) < 2.5 * s
        m, s = np.mean(x[sel]), np.std(x[sel])
    # the truncation at 2.5 sigma removes 1.2% of a Gaussian and shrinks its sigma by 5.1%
    return float(m), float(s / 0.9494)


def ecal_energy(n: int, cal, geo, rt, rng) -> None:
    print("\n== ECAL energy resolution and linearity (toy electrons, fitted-pulse level) ==")
    print("intrinsic = core sigma/E of the simulated visible energy; reco = of E_ECAL; target ratio <= 1.10")
    print(f"{'E (GeV)':>8} {'pile-up':>8} {'intrinsic %':>12} {'reco %':>8} {'ratio':>6} "
          f"{'<E_reco>/<E_true>':>18} {'<E_reco>/E_beam':>16}")  # fmt: skip
    for e in (20.0, 50.0, 100.0, 150.0):
        for pu in (0.0, 0.3):
            beam = ToyBeam(e_beam_gev=e)
            pulses, hits, truth, present = toy_events(rng, n, cal, geo, rt, PARTICLE_ELECTRON,
                                                      pileup_probability=pu, beam=beam)  # fmt: skip
            ev = reconstruct_calo(pulses, n, cal, present=present).events
            mt, st = core_sigma(truth.e_ecal_true)
            mr, sr = core_sigma(ev.e_ecal)
            print(f"{e:8.0f} {pu:8.1f} {100 * st / mt:12.3f} {100 * sr / mr:8.3f} {sr / mr / (st / mt):6.3f} "
                  f"{mr / mt:18.4f} {mr / e:16.4f}")  # fmt: skip
    print("same without readout noise and with a 0.2 ADC pulse threshold (the algorithm's own share):")
    for e in (20.0, 50.0):
        beam = ToyBeam(e_beam_gev=e, noise_adc=0.0, threshold_adc=0.2)
        pulses, hits, truth, present = toy_events(rng, n, cal, geo, rt, PARTICLE_ELECTRON,
                                                  pileup_probability=0.3, beam=beam)  # fmt: skip
        ev = reconstruct_calo(pulses, n, cal, present=present).events
        mt, st = core_sigma(truth.e_ecal_true)
        mr, sr = core_sigma(ev.e_ecal)
        print(f"{e:8.0f} {0.3:8.1f} {100 * st / mt:12.3f} {100 * sr / mr:8.3f} {sr / mr / (st / mt):6.3f} "
              f"{mr / mt:18.4f} {mr / e:16.4f}")  # fmt: skip


def ecal_position(n: int, cal, geo, rt, rng) -> None:
    print("\n== ECAL cluster position (toy 100 GeV electrons, impacts uniform over the beam cell) ==")
    beam = ToyBeam(spot_sigma_mm=1e-9)
    pulses, hits, truth, present = toy_events(rng, n, cal, geo, rt, PARTICLE_ELECTRON, beam=beam)
    # spread impacts uniformly over the cell by shifting: regenerate with uniform positions
    pitch = cal.layout.ecal_pitch_mm
    rng2 = np.random.default_rng(99)
    from na64reco.calo.synthetic import cells_to_pulses, ecal_showers

    x = 19.1 + rng2.uniform(-pitch / 2, pitch / 2, n)
    y = 19.1 + rng2.uniform(-pitch / 2, pitch / 2, n)
    cells, _ = ecal_showers(rng2, np.full(n, 100e3), x, y)
    lay = cal.layout
    dep = np.zeros((n, lay.n_cells))
    dep[:, lay.cells_of("ECAL0").start : lay.cells_of("ECAL1").stop] = cells.reshape(n, -1)
    plane = np.repeat(np.arange(len(lay.planes)), [a * b for _, a, b in lay.planes])
    local = np.arange(lay.n_cells) - lay.begin[plane]
    ny = np.array([p[2] for p in lay.planes])[plane]
    for s in lay.counters:
        dep[:, lay.cells_of(s).start] = 5.0
    p = cells_to_pulses(rng2, dep, plane, local // ny, local % ny, cal.mev_per_adc, np.full(n, 127.5),
                        cell_offset_ns=cal.time_mean_ns)
    res = reconstruct_calo(p, n, cal)
    ev = res.events
    dx, dy = ev.ecal_x - x, ev.ecal_y - y
    print(f"{'quantity':<34}{'value':>10}")
    print(f"{'sigma(x_reco - x_true) mm':<34}{np.nanstd(dx):>10.3f}")
    print(f"{'sigma(y_reco - y_true) mm':<34}{np.nanstd(dy):>10.3f}")
    print(f"{'mean bias x mm':<34}{np.nanmean(dx):>10.3f}")
    print(f"{'max |bias| in 2 mm bins of x mm':<34}{_max_bin_bias(x - 19.1, dx):>10.3f}")
    print(f"{'centre of gravity sigma x mm':<34}{np.nanstd(ev.ecal_cog_x - x):>10.3f}")
    print("target: < 3 mm at 100 GeV")


def _max_bin_bias(u: np.ndarray, d: np.ndarray) -> float:
    bins = np.floor(u / 2.0).astype(int)
    return float(max(abs(np.nanmean(d[bins == b])) for b in np.unique(bins) if np.sum(bins == b) > 20))


def second_cluster(n: int, cal, geo, rt, rng) -> None:
    print("\n== Second in-time cluster (toy: two 100 GeV electrons within 1 ns, 2.2-3 cells apart) ==")
    pulses, hits, truth, present = toy_events(rng, n, cal, geo, rt, PARTICLE_ELECTRON, pileup_probability=1.0,
                                              in_time_pileup=True)  # fmt: skip
    res = reconstruct_calo(pulses, n, cal, present=present)
    ev, cl = res.events, res.clusters
    found = ev.ecal_nclusters >= 2
    inside = (np.abs(truth.pileup_x) < 2.5 * 38.2) & (np.abs(truth.pileup_y) < 2.5 * 38.2)
    print(f"{'quantity':<46}{'value':>10}")
    print(f"{'efficiency (>= 2 in-time clusters)':<46}{found.mean():>10.4f}")
    print(f"{'  for second impact inside the ECAL':<46}{found[inside].mean():>10.4f}")
    print(f"{'fake second cluster, single electrons':<46}", end="")
    p1, _, _, pr1 = toy_events(rng, n, cal, geo, rt, PARTICLE_ELECTRON)
    print(f"{(reconstruct_calo(p1, n, cal, present=pr1).events.ecal_nclusters >= 2).mean():>10.4f}")
    del cl


def straws(n: int, geo, rt, rng) -> None:
    print("\n== Straws (toy straight tracks, r(t) smearing 0.15 mm, 3 stations x (X, Y)) ==")
    smear = 0.15
    print(f"{'hit eff':>8} {'noise':>6} {'sigma_r/smear':>14} {'point sigma/(smear/sqrt2)':>26} "
          f"{'plane eff':>10} {'seg eff':>8} {'sigma x0 mm':>12} {'sigma tx urad':>14}")  # fmt: skip
    for eff, noise in ((1.0, 0.0), (0.95, 0.0), (0.95, 2.0)):
        hits, truth = straight_tracks(rng, n, geo, rt, smear_mm=smear, efficiency=eff, noise_hits=noise)
        res = reconstruct_straws(hits, n, geo, rt)
        g = geo.arrays()
        real = np.isfinite(hits.true_u)
        p = hits.plane[real].astype(int)
        base = g["u_first_mm"][p] + hits.layer[real] * g["layer_shift_mm"][p]
        centre = base + hits.tube[real] * g["pitch_mm"][p]
        d_true = np.abs(hits.true_u[real] - centre)
        r = res.hits.radius[real]
        mid = (d_true > 0.5) & (d_true < 2.5)  # away from the clipping at 0 and at the wall
        _, s_r = core_sigma(r[mid] - d_true[mid])
        cl = res.clusters
        z = cl.z
        ev = cl.event
        tu = np.where(g["axis"][cl.plane] == 0, truth.x0[ev] + truth.tx[ev] * z, truth.y0[ev] + truth.ty[ev] * z)
        two = (cl.n_hits == 2) & ~cl.ambiguous
        _, s_pt = core_sigma(cl.u[two] - tu[two])
        used = np.where(cl.in_segment == 2, cl.u_alt, cl.u)
        good = np.abs(used - tu) < 1.0
        plane_ok = np.zeros((n, len(geo.planes)), dtype=bool)
        plane_ok[ev[good], cl.plane[good]] = True
        se = res.events
        seg_good = se.seg_ok & (np.abs(se.seg_x0 - truth.x0) < 1.0) & (np.abs(se.seg_y0 - truth.y0) < 1.0)
        _, s_x0 = core_sigma(se.seg_x0[se.seg_ok] - truth.x0[se.seg_ok])
        _, s_tx = core_sigma(se.seg_tx[se.seg_ok] - truth.tx[se.seg_ok])
        print(f"{eff:8.2f} {noise:6.1f} {s_r / smear:14.3f} {s_pt / (smear / np.sqrt(2)):26.3f} "
              f"{plane_ok.mean():10.4f} {seg_good.mean():8.4f} {s_x0:12.3f} {1e6 * s_tx:14.1f}")  # fmt: skip
    print("target: straw point resolution within 20% of the smearing (ratios <= 1.20)")


def selection(n_sig: int, n_bkg: int, cal, geo, rt, rng) -> None:
    print("\n== Selection (toy pile-up runs: 20% of events carry a second electron at a random time) ==")
    flow = CutFlow.load()

    def run(kind, n, pu, **kw):
        sel = np.zeros(0, dtype=bool)
        extra = []
        box = np.zeros(0, dtype=bool)
        table = None
        for start in range(0, n, 100_000):
            m = min(100_000, n - start)
            pulses, hits, truth, present = toy_events(rng, m, cal, geo, rt, kind, pileup_probability=pu, **kw)
            calo = reconstruct_calo(pulses, m, cal, present=present)
            st = reconstruct_straws(hits, m, geo, rt)
            r = flow.apply(calo.events.with_columns(**st.events.to_dict()))
            sel = np.r_[sel, r.events.selected]
            box = np.r_[box, r.events.in_signal_box]
            extra.append(truth.e_missing)
            table = r if table is None else table
        return sel, box, np.concatenate(extra), table

    sel, box, e_miss, first = run(PARTICLE_SIGNAL, n_sig, 0.2, e_miss_gev=(60.0, 95.0))
    print("cut flow of the signal sample (E_miss 60-95 GeV), first batch:")
    print(first.format_table())
    rows = [("signal E_miss > 60 GeV: efficiency", sel.mean(), n_sig, "> 0.90")]
    for kind, name in ((PARTICLE_ELECTRON, "electrons (no signal)"), (PARTICLE_HADRON, "hadrons")):
        s, b, _, tab = run(kind, n_bkg, 0.2)
        k = int(s.sum())
        limit = 2.303 / s.size if k == 0 else k / s.size
        rows.append((f"{name}: leakage into selection", k / s.size, s.size, "< 1e-4"))
        rows.append(("  90% CL upper limit" if k == 0 else "  observed fraction", limit, s.size, ""))
        rows.append(("  in box before other cuts", b.mean(), s.size, ""))
        if kind == PARTICLE_ELECTRON:
            print("\ncut flow of the electron (background) sample, first batch:")
            print(tab.format_table())
    print(f"\n{'quantity':<40}{'value':>12}{'events':>10}{'target':>10}")
    for name, v, m, target in rows:
        print(f"{name:<40}{v:>12.3e}{m:>10d}{target:>10}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies every sample size")
    args = ap.parse_args()
    cal, geo, rt = load_calibration(1), load_geometry(path=TOY_GEOMETRY), load_rt()
    rng = np.random.default_rng(2026)
    k = args.scale
    print("All inputs are TOY events (na64reco.selection.synthetic), not the full simulator.")
    ecal_energy(int(20_000 * k), cal, geo, rt, rng)
    ecal_position(int(20_000 * k), cal, geo, rt, rng)
    second_cluster(int(10_000 * k), cal, geo, rt, rng)
    straws(int(20_000 * k), geo, rt, rng)
    selection(int(20_000 * k), int(200_000 * k), cal, geo, rt, rng)


if __name__ == "__main__":
    main()
