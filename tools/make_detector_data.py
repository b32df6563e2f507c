"""Generate the shipped NA64-like detector description under na64reco/data/.

Two periods show selection by run: 2022 (runs 1-4999) and 2023 (runs 5000-*), with a
re-cabling of ECAL1, HCAL, the counters and straw station ST2 between them, ST2 moved
downstream, and a recalibration. Deterministic (fixed seeds): rerunning reproduces the files.

Usage: python tools/make_detector_data.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent.parent / "na64reco" / "data"

PERIODS = {
    "2022": dict(first=1, last=4999, st2_z=-2900.0, seed=2022),
    "2023": dict(first=5000, last=None, st2_z=-2700.0, seed=2023),
}

# name, kind, nx, ny, pitch_mm, z_mm
SADC = [
    ("ECAL0", "ecal", 6, 6, 38.2, 0.0),
    ("ECAL1", "ecal", 6, 6, 38.2, 70.0),
    ("HCAL0", "hcal", 3, 3, 194.0, 1000.0),
    ("HCAL1", "hcal", 3, 3, 194.0, 2200.0),
    ("HCAL2", "hcal", 3, 3, 194.0, 3400.0),
    ("HCAL3", "hcal", 3, 3, 194.0, 4600.0),
    ("VETO", "veto", 6, 1, 100.0, 700.0),
    ("SRD", "srd", 3, 1, 40.0, -1200.0),
    ("S1", "counter", 1, 1, 100.0, -19000.0),
    ("S2", "counter", 1, 1, 100.0, -14000.0),
    ("S3", "counter", 1, 1, 60.0, -2500.0),
    ("S4", "counter", 1, 1, 60.0, -250.0),
    ("V1", "veto_counter", 1, 1, 200.0, -18500.0),
    ("V2", "veto_counter", 1, 1, 200.0, -150.0),
]
# MeV per ADC count of pulse amplitude: full scale ~4000 counts
GAIN = {"ecal0": 4.0, "ecal1": 25.0, "hcal": 30.0, "veto": 0.02, "srd": 0.05, "counter": 0.01,
        "veto_counter": 0.01}


def runs_line(p) -> str:
    return f"runs {p['first']} {p['last'] if p['last'] is not None else '*'}\n"


def geometry(name: str, p: dict) -> str:
    out = [f"# NA64-like setup, period {name}. z = 0 at the ECAL front face; mm.\n",
           f"first_run = {p['first']}\n"]
    if p["last"] is not None:
        out.append(f"last_run = {p['last']}\n")
    out.append(f'description = "NA64-like invisible-mode setup, {name}"\n\n')
    for plane, kind, nx, ny, pitch, z in SADC:
        out.append(f'[[sadc_plane]]\nname = "{plane}"\nkind = "{kind}"\nnx = {nx}\nny = {ny}\n'
                   f"pitch_mm = {pitch}\nx_mm = 0.0\ny_mm = 0.0\nz_mm = {z}\n\n")
    for station, z in (("ST1", -3600.0), ("ST2", p["st2_z"])):
        for k, axis in enumerate("XY"):
            out.append(
                f'[[straw_plane]]\nname = "{station}{axis}"\nstation = "{station}"\n'
                f'measures = "{axis.lower()}"\ntubes = 64\nlayers = 2\npitch_mm = 6.0\n'
                f"centre_mm = 0.0\nz_mm = {z + 20.0 * k}\nlayer_dz_mm = 5.2\n"
                f"layer_offset_mm = 3.0\ntube_radius_mm = 2.95\n\n")
    return "".join(out)


def sadc_lines(period: str) -> list[str]:
    """(plane, source, global channel g) -> port g // 64, chip_channel g % 64."""
    lines = []

    def add(plane, source, g, x, y):
        lines.append(f"{plane:6s} {source:4d} {g // 64:2d} 0x{g % 64:02x} {x:2d} {y:2d}\n")

    for x in range(6):
        for y in range(6):
            add("ECAL0", 620, y * 6 + x, x, y)
    for x in range(6):
        for y in range(6):
            # 2023: ECAL1 re-cabled to a new MSADC (source 624), port 1
            add("ECAL1", 621 if period == "2022" else 624, (0 if period == "2022" else 64) + y * 6 + x, x, y)
    for m in range(4):
        module = m if period == "2022" else 3 - m  # 2023: HCAL modules cabled in reverse
        for x in range(3):
            for y in range(3):
                add(f"HCAL{m}", 622, module * 9 + y * 3 + x, x, y)
    base = 0 if period == "2022" else 128  # 2023: counters moved to port 2 of source 623
    for x in range(6):
        add("VETO", 623, base + x, x, 0)
    for x in range(3):
        add("SRD", 623, base + 16 + x, x, 0)
    for i, name in enumerate(("S1", "S2", "S3", "S4", "V1", "V2")):
        add(name, 623, base + 32 + i, 0, 0)
    return lines


def straw_lines(period: str) -> list[str]:
    lines = []
    for s, station in enumerate(("ST1", "ST2")):
        source = 160 + s if not (period == "2023" and station == "ST2") else 162
        for k, axis in enumerate("XY"):
            if period == "2023" and station == "ST2":
                k = 1 - k  # 2023: ST2 X and Y swapped ports on its new F1 source
            for layer in range(2):
                port = 2 * k + layer
                for tube in range(64):
                    lines.append(f"{station}{axis} {source:4d} {port:2d} 0x{tube:02x} {layer} {tube:2d}\n")
    return lines


def gains(period: str, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    lines = []
    for plane, kind, nx, ny, _, _ in SADC:
        base = GAIN["ecal0" if plane == "ECAL0" else "ecal1" if plane == "ECAL1" else kind]
        spread = np.exp(rng.normal(0.0, 0.08, size=(ny, nx)))
        for y in range(ny):
            for x in range(nx):
                lines.append(f"{plane:6s} {x} {y} {base * spread[y, x]:.5g}\n")
    return lines


def led(runs: list[int], skip: dict[int, int], seed: int) -> list[str]:
    rng = np.random.default_rng(seed + 1)
    lines = []
    for run in runs:
        drift = rng.normal(0.0, 0.004)
        for spill in range(1, 11):
            if skip.get(run) == spill:
                continue  # a missing spill: users fall back to the run average
            for plane, _, nx, ny, _, _ in SADC[:6]:
                for y in range(ny):
                    for x in range(nx):
                        f = 1.0 + drift * spill + rng.normal(0.0, 0.003)
                        lines.append(f"{run} {spill:2d} {plane:6s} {x} {y} {f:.5f}\n")
    return lines


def main() -> None:
    (DATA / "maps").mkdir(parents=True, exist_ok=True)
    (DATA / "calib").mkdir(parents=True, exist_ok=True)
    for name, p in PERIODS.items():
        (DATA / f"geometry-{name}.toml").write_text(geometry(name, p))
        head = (f"# NA64-like channel map, period {name} (generated by tools/make_detector_data.py)\n"
                "# MSADC: name srcID port chip_channel x y   (chip = chip_channel >> 4, chan = & 0xF)\n"
                "# F1:    name srcID port chip_chan layer tube (chip = chip_chan >> 3, chan = & 7)\n")
        (DATA / "maps" / f"na64-{name}.map").write_text(
            head + runs_line(p) + "".join(sadc_lines(name)) + "".join(straw_lines(name)))
        (DATA / "calib" / f"gains-{name}.txt").write_text(
            f"# MeV per ADC count of pulse amplitude, period {name}\n# plane x y mev_per_adc\n"
            + runs_line(p) + "".join(gains(name, p["seed"])))
        led_runs = [1000, 1001, 1002] if name == "2022" else [6000]
        (DATA / "calib" / f"led-{name}.txt").write_text(
            f"# LED corrections per spill, period {name}\n# run spill plane x y factor\n"
            + runs_line(p) + "".join(led(led_runs, {1001: 5}, p["seed"])))


if __name__ == "__main__":
    main()
