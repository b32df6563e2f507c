"""The whole trigger as a composition of the stages, as a stream model and a block model.

Input: samples of the 113 trigger channels (order in registers.py), one 12-bit sample per
channel per clock. Both models produce, per clock, the same named outputs:

``word``          uint64 decision word (decision.py), 0 on clocks without a decision
``prs``/``ecal``/``hcal``  held-peak sums (ap_uint<16>) at the decision unit's input
``ecal_inst``     instantaneous ECAL energy sum (the pile-up peak finder's input)
``sum_peak``      ECAL-sum peak strobe
``beam``/``beam_edge``/``veto``  coincidence unit outputs
``baseline``      (113) baseline-subtracted samples; ``filter``, ``energy``, ``held`` (108)
``counters``      (5) stretched discriminator outputs

Latencies (clocks from the sample at the input to the output): baseline 1, filter 2,
energy 3, held 4 after the falling sample that reports the peak, sums held + 4, ecal_inst 7,
sum_peak 1 after ecal_inst falls, counters 2, beam/beam_edge/veto 3, word: decision clock + 1
(decision = beam edge + DECISION_DELAY). docs/firmware.md section 8.
"""

from __future__ import annotations

import numpy as np

from . import channel, counters, decision, sums
from .registers import N_CALO, N_CHANNELS, N_COUNTERS, N_ECAL0, N_ECAL1, TriggerConfig

__all__ = ["TriggerStream", "TriggerBlock", "run_windows", "window_results", "OUTPUT_NAMES", "check_samples"]

OUTPUT_NAMES = ("word", "prs", "ecal", "hcal", "ecal_inst", "sum_peak", "beam", "beam_edge", "veto",
                "baseline", "filter", "energy", "held", "counters")
_ECAL = slice(0, N_ECAL0 + N_ECAL1)
_PRS = slice(0, N_ECAL0)
_HCAL = slice(N_ECAL0 + N_ECAL1, N_CALO)


def check_samples(samples: np.ndarray, channel_axis: int) -> np.ndarray:
    """Reject anything but unsigned/signed integer samples within 0..4095 on 113 channels;
    returns them as int64."""
    return _validated(samples, channel_axis).astype(np.int64)


def _validated(samples: np.ndarray, channel_axis: int) -> np.ndarray:
    """check_samples without the conversion: the block model converts one pass at a time,
    so a long input never exists as a whole in int64 (4 times the memory of uint16)."""
    arr = np.asarray(samples)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"samples must be an integer array (uint16), got dtype {arr.dtype}")
    if arr.ndim < 2 or arr.shape[channel_axis] != N_CHANNELS:
        raise ValueError(f"samples must have {N_CHANNELS} channels on axis {channel_axis}, got shape {arr.shape}")
    if arr.size:
        lo, hi = (0 if arr.dtype.kind == "u" else int(arr.min())), int(arr.max())
        if lo < 0 or hi > 4095:
            bad = lo if lo < 0 else hi
            raise ValueError(f"sample value {bad} outside the 12-bit range 0..4095")
    return arr


def _scalars(cfg: TriggerConfig) -> dict[str, int]:
    return {k: int(v) for k, v in cfg.values.items() if np.ndim(v) == 0}


class TriggerStream:
    """Clock-by-clock model: ``step(samples_of_one_clock)`` -> dict of that clock's outputs."""

    def __init__(self, config: TriggerConfig | None = None) -> None:
        self.configure(config or TriggerConfig())
        self.reset()

    def configure(self, config: TriggerConfig) -> None:
        """Load new register values; the pipeline state is kept (a mid-stream change)."""
        self.config = config
        self.regs = _scalars(config)
        self.gains = [int(g) for g in config.gains]
        self.peak_mins = [int(m) for m in config.peak_mins]
        self.thresholds = [int(v) for v in config.counter_thresholds]
        self.stretches = [int(v) for v in config.counter_stretches]

    def reset(self) -> None:
        self.pedestals = [channel.PedestalStream() for _ in range(N_CHANNELS)]
        self.filters = [channel.FilterStream() for _ in range(N_CALO)]
        self.gain_units = [channel.GainStream() for _ in range(N_CALO)]
        self.peaks = [channel.PeakStream() for _ in range(N_CALO)]
        self.discriminators = [counters.DiscriminatorStream() for _ in range(N_COUNTERS)]
        self.coincidence = counters.CoincidenceStream()
        self.tree_prs = sums.AdderTreeStream(N_ECAL0)
        self.tree_ecal = sums.AdderTreeStream(N_ECAL0 + N_ECAL1)
        self.tree_hcal = sums.AdderTreeStream(N_CALO - N_ECAL0 - N_ECAL1)
        self.tree_inst = sums.AdderTreeStream(N_ECAL0 + N_ECAL1)
        self.sum_peak = channel.PeakStream()
        self.decision = decision.DecisionStream(self.regs["RANDOM_SEED"])

    def step(self, samples: list[int]) -> dict[str, object]:
        r = self.regs
        baseline = [p.step(int(x), r["PED_SHIFT"], r["PED_BLOCK_LOG2"], r["PED_GATE"])
                    for p, x in zip(self.pedestals, samples)]
        calo_in = baseline[N_COUNTERS:]
        filt = [f.step(b, r["FILTER_LEN"]) for f, b in zip(self.filters, calo_in)]
        energy = [g.step(f, gain) for g, f, gain in zip(self.gain_units, filt, self.gains)]
        held = [p.step(e, m, r["PEAK_HOLD"])[0] for p, e, m in zip(self.peaks, energy, self.peak_mins)]
        levels = [d.step(b, thr, s) for d, b, thr, s in
                  zip(self.discriminators, baseline[:N_COUNTERS], self.thresholds, self.stretches)]
        beam, edge, veto = self.coincidence.step(levels, r["COINC_MASK"], r["VETO_MASK"])
        prs = self.tree_prs.step(held[_PRS])
        ecal = self.tree_ecal.step(held[_ECAL])
        hcal = self.tree_hcal.step(held[_HCAL])
        inst = self.tree_inst.step(energy[_ECAL])
        _, sum_peak = self.sum_peak.step(inst, r["PILEUP_SUM_MIN"], 1)
        word = self.decision.step(edge, veto, sum_peak, prs, ecal, hcal, r)
        return {"word": word, "prs": prs, "ecal": ecal, "hcal": hcal, "ecal_inst": inst,
                "sum_peak": sum_peak, "beam": beam, "beam_edge": edge, "veto": veto,
                "baseline": baseline, "filter": filt, "energy": energy, "held": held,
                "counters": levels}

    def run(self, samples: np.ndarray) -> dict[str, np.ndarray]:
        """Step through ``samples`` (113, T); outputs stacked with time last."""
        samples = check_samples(samples, 0)
        rows = [self.step(samples[:, t].tolist()) for t in range(samples.shape[1])]
        return _stack(rows, samples.shape[1])


def _stack(rows: list[dict[str, object]], T: int) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    dtypes = {"word": np.uint64, "sum_peak": bool, "beam": bool, "beam_edge": bool, "veto": bool,
              "counters": bool}
    widths = {"baseline": N_CHANNELS, "filter": N_CALO, "energy": N_CALO, "held": N_CALO,
              "counters": N_COUNTERS}
    for name in OUTPUT_NAMES:
        dt = dtypes.get(name, np.int64)
        if name in widths:
            arr = np.array([r[name] for r in rows], dtype=dt).reshape(T, widths[name]).T.copy()
        else:
            arr = np.array([r[name] for r in rows], dtype=dt).reshape(T)
        out[name] = arr
    return out


class TriggerBlock:
    """Vectorised model over chunks: ``run(samples (..., 113, T))`` with the state carried.

    Leading dimensions are independent lanes (e.g. one per recorded window); ``reset()``
    restores the reset state, ``configure()`` changes registers between chunks.
    """

    def __init__(self, config: TriggerConfig | None = None, lanes: tuple[int, ...] = ()) -> None:
        self.lanes = tuple(lanes)
        self.configure(config or TriggerConfig())
        self.reset()

    def configure(self, config: TriggerConfig) -> None:
        self.config = config
        self.regs = _scalars(config)

    def reset(self) -> None:
        L = self.lanes
        self.state = {
            "ped": channel.pedestal_reset(L + (N_CHANNELS,)),
            "filter": channel.filter_reset(L + (N_CALO,)),
            "gain": channel.gain_reset(L + (N_CALO,)),
            "peak": channel.peak_reset(L + (N_CALO,)),
            "disc": counters.discriminator_reset(L + (N_COUNTERS,)),
            "coinc": counters.coincidence_reset(L),
            "prs": sums.adder_tree_reset(L), "ecal": sums.adder_tree_reset(L),
            "hcal": sums.adder_tree_reset(L), "inst": sums.adder_tree_reset(L),
            "sum_peak": channel.peak_reset(L),
            "decision": decision.decision_reset(L, self.regs["RANDOM_SEED"]),
        }

    # clocks per internal pass: long streams are cut (state carried, which changes nothing)
    # so that the intermediate arrays of a pass stay in cache
    ELEMENTS_PER_PASS = 1 << 17

    def run(self, samples: np.ndarray, debug: bool = True) -> dict[str, np.ndarray]:
        return self._run_checked(_validated(samples, -2), debug)

    def _run_checked(self, x: np.ndarray, debug: bool) -> dict[str, np.ndarray]:
        if x.shape[:-2] != self.lanes:
            raise ValueError(f"samples have lanes {x.shape[:-2]}, this model was built for {self.lanes}")
        T = x.shape[-1]
        step = max(64, self.ELEMENTS_PER_PASS // max(1, x.size // max(T, 1)))
        step -= step % 16  # whole pedestal blocks per pass keep the pedestal on its fast path
        if T <= step:
            return self._run(x.astype(np.int64), debug)
        parts = [self._run(x[..., a:a + step].astype(np.int64), debug) for a in range(0, T, step)]
        return {k: np.concatenate([p[k] for p in parts], axis=-1) for k in parts[0]}

    def _run(self, x: np.ndarray, debug: bool) -> dict[str, np.ndarray]:
        r, cfg, st = self.regs, self.config, self.state
        baseline, st["ped"] = channel.pedestal_block(x, st["ped"], r["PED_SHIFT"], r["PED_BLOCK_LOG2"], r["PED_GATE"])
        calo = baseline[..., N_COUNTERS:, :]
        filt, st["filter"] = channel.filter_block(calo, st["filter"], r["FILTER_LEN"])
        energy, st["gain"] = channel.gain_block(filt, st["gain"], cfg.gains)
        held, _, st["peak"] = channel.peak_block(energy, st["peak"], cfg.peak_mins, r["PEAK_HOLD"], strobe=False)
        levels, st["disc"] = counters.discriminator_block(
            baseline[..., :N_COUNTERS, :], st["disc"], cfg.counter_thresholds, cfg.counter_stretches)
        beam, edge, veto, st["coinc"] = counters.coincidence_block(levels, st["coinc"], r["COINC_MASK"], r["VETO_MASK"])
        prs, st["prs"] = sums.adder_tree_block(held[..., _PRS, :], st["prs"])
        ecal, st["ecal"] = sums.adder_tree_block(held[..., _ECAL, :], st["ecal"])
        hcal, st["hcal"] = sums.adder_tree_block(held[..., _HCAL, :], st["hcal"])
        inst, st["inst"] = sums.adder_tree_block(energy[..., _ECAL, :], st["inst"])
        _, sum_peak, st["sum_peak"] = channel.peak_block(inst, st["sum_peak"], r["PILEUP_SUM_MIN"], 1)
        word, st["decision"] = decision.decision_block(edge, veto, sum_peak, prs, ecal, hcal, st["decision"], r)
        out = {"word": word, "prs": prs, "ecal": ecal, "hcal": hcal, "ecal_inst": inst,
               "sum_peak": sum_peak, "beam": beam, "beam_edge": edge, "veto": veto}
        if debug:
            out.update(baseline=baseline, filter=filt, energy=energy, held=held, counters=levels)
        return out


def window_results(word: np.ndarray, last_word: np.ndarray, prs: np.ndarray, ecal: np.ndarray,
                   hcal: np.ndarray) -> dict[str, np.ndarray]:
    """Per-window summary from per-clock outputs (..., T) of a run that started at reset.

    ``last_word`` is the decision unit's output register after the window (a decision on the
    window's last clock). Returns the OR of the trigger bits over the window, the number of
    triggers, the first decision word (0 if none) and the sums at its decision clock.
    """
    T = word.shape[-1]
    comb = np.concatenate([word[..., 1:], np.asarray(last_word, dtype=np.uint64)[..., None]], axis=-1)
    trig = (comb & np.uint64(decision.TRIGGER_MASK)) != 0
    bits = np.bitwise_or.reduce(comb & np.uint64(decision.TRIGGER_MASK), axis=-1)
    is_decision = comb != 0
    first = np.argmax(is_decision, axis=-1)
    has = is_decision.any(axis=-1)
    first_word = np.where(has, np.take_along_axis(comb, first[..., None], axis=-1)[..., 0], np.uint64(0))
    clock = np.where(has, first, -1)

    def at(a: np.ndarray) -> np.ndarray:
        v = np.take_along_axis(a, np.clip(first, 0, T - 1)[..., None], axis=-1)[..., 0]
        return np.where(has, v, 0)

    return {"trigger_bits": bits.astype(np.uint8), "n_triggers": trig.sum(axis=-1).astype(np.int32),
            "decision_word": first_word.astype(np.uint64), "decision_clock": clock.astype(np.int32),
            "e_prs": at(prs), "e_ecal": at(ecal), "e_hcal": at(hcal)}


def run_windows(samples: np.ndarray, config: TriggerConfig | None = None,
                lanes_per_pass: int = 384) -> dict[str, np.ndarray]:
    """Block model on recorded windows (n, 113, T): every window starts from reset.

    Windows are independent, so they are processed ``lanes_per_pass`` at a time: the
    intermediate arrays then stay in cache, which is what makes the block model fast.
    """
    x = _validated(samples, -2)
    if x.ndim != 3:
        raise ValueError(f"windows must be shaped (n_windows, {N_CHANNELS}, n_samples), got {x.shape}")
    parts = []
    for lo in range(0, max(x.shape[0], 1), lanes_per_pass):
        chunk = x[lo:lo + lanes_per_pass]
        model = TriggerBlock(config, lanes=chunk.shape[:1])
        out = model._run_checked(chunk, debug=False)
        parts.append(window_results(out["word"], model.state["decision"]["out"], out["prs"], out["ecal"], out["hcal"]))
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
