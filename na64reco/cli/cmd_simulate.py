"""``na64reco simulate``: write a simulated run (raw DATE file) and its Parquet truth."""

from __future__ import annotations

import argparse
import json
import sys
import time

from ..sim import SimConfig, simulate

# command-line option -> SimConfig field
_OPTIONS = {
    "run": "run",
    "beam": "beam_particle",
    "energy": "beam_energy_gev",
    "energy_spread": "beam_energy_spread",
    "rate": "rate_hz",
    "hadron_fraction": "hadron_fraction",
    "muon_fraction": "muon_fraction",
    "signal_fraction": "signal_fraction",
    "signal_spectrum": "signal_spectrum",
    "signal_mass": "signal_mass_mev",
    "events_per_spill": "events_per_spill",
    "noise": "noise_rms_adc",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    d = SimConfig()
    p = subparsers.add_parser(
        "simulate",
        help="simulate a run: raw DATE file plus Parquet truth",
        description="Parameterised NA64 simulation (beam, showers, pile-up, waveforms, straws). "
        "Same seed and options, same bytes. Files appear only when complete.",
    )
    p.add_argument("--events", type=int, required=True, help="number of physics events")
    p.add_argument("--seed", type=int, required=True, help="random seed (>= 0)")
    p.add_argument("--output", required=True, help="raw DATE file to write")
    p.add_argument("--truth", help="truth Parquet file (events); pulses/particles/straws/channels go beside it")
    p.add_argument("--no-truth-pulses", action="store_true", help="skip the (large) per-pulse truth table")
    p.add_argument("--run", type=int, default=d.run, help=f"run number (default {d.run})")
    p.add_argument("--beam", default=d.beam_particle, help=f"beam particle: e- or e+ (default {d.beam_particle})")
    p.add_argument("--energy", type=float, default=d.beam_energy_gev, help="beam energy, GeV (default %(default)s)")
    p.add_argument("--energy-spread", type=float, default=d.beam_energy_spread,
                   help="relative beam energy spread, sigma (default %(default)s)")
    p.add_argument("--rate", type=float, default=d.rate_hz,
                   help="beam particles per second in the spill, sets the pile-up; 0 = none (default %(default)g)")
    p.add_argument("--hadron-fraction", type=float, default=d.hadron_fraction, help="(default %(default)s)")
    p.add_argument("--muon-fraction", type=float, default=d.muon_fraction, help="(default %(default)s)")
    p.add_argument("--signal-fraction", type=float, default=d.signal_fraction,
                   help="fraction of invisible-signal events (default %(default)s)")
    p.add_argument("--signal-spectrum", default=d.signal_spectrum,
                   help="missing-energy spectrum: brems, uniform or resonance (default %(default)s)")
    p.add_argument("--signal-mass", type=float, default=d.signal_mass_mev,
                   help="A' mass in MeV; resonance: E_R = M^2 / 2 m_e (default %(default)s)")
    p.add_argument("--events-per-spill", type=int, default=d.events_per_spill, help="(default %(default)s)")
    p.add_argument("--noise", type=float, default=d.noise_rms_adc, help="noise rms, ADC counts (default %(default)s)")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="any other SimConfig field, VALUE as JSON (e.g. --set noise_sample_correlation=0.3)")
    p.add_argument("--progress", action="store_true", help="show a progress bar")
    p.set_defaults(func=run)


def _parse_set(items: list[str]) -> dict:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--set {item!r}: expected FIELD=VALUE")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value  # a bare string such as e+
        out[key.strip()] = tuple(parsed) if isinstance(parsed, list) else parsed
    return out


def run(args: argparse.Namespace) -> int:
    overrides = {field: getattr(args, opt) for opt, field in _OPTIONS.items()}
    overrides.update(_parse_set(args.set))
    start = time.perf_counter()
    try:
        summary = simulate(
            args.events,
            args.seed,
            args.output,
            truth=args.truth,
            truth_pulses=not args.no_truth_pulses,
            progress=args.progress,
            **overrides,
        )
    except ValueError as exc:
        raise ValueError(_with_option_name(str(exc))) from None
    elapsed = time.perf_counter() - start
    print(
        f"{summary.output}: run {overrides['run']}, {summary.n_events} events in {summary.n_spills} spills, "
        f"{summary.n_pileup} pile-up particles, {summary.bytes_written} bytes, "
        f"{summary.n_events / max(elapsed, 1e-9):.0f} events/s",
        file=sys.stdout,
    )
    for table, path in summary.truth.items():
        print(f"truth {table}: {path}")
    return 0


def _with_option_name(message: str) -> str:
    """Name the command-line option when a message names the SimConfig field behind it."""
    names = {**_OPTIONS, "events": "events", "seed": "seed", "output": "output", "truth": "truth"}
    for opt, field in names.items():
        if message.startswith(f"{field} ") or message.startswith(f"{field}="):
            return f"--{opt.replace('_', '-')}: {message}"
    return message
