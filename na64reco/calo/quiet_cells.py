"""Small in-time pulses around the shower that the pulse search left empty, measured at the event's time.

A free pulse search keeps a lone pulse only when it stands 5 sigma out of the noise, and a
channel whose samples barely move is not fitted at all (zero suppression): in the
pre-shower, whose cells read 5 MeV per ADC count, the 10-50 MeV that a 0.3-1 GeV pre-shower
deposit spreads into the cells around its centre was lost, and the pre-shower energy of
such showers read ~9 % low, right where the pre-shower cut sits. At a known time the same
pulse is a linear measurement with no search behind it (``fit_bounds.fixed_time_amplitude``,
the time being the event's master time plus the cell's time calibration), and a threshold
of about one ADC count (``CaloConfig.quiet_min_adc``) costs little noise energy. Only the
cells next to the event's largest ECAL tower are measured: the shower is there, and the
cost stays a few channels per event. On simulated 3 MHz runs the pre-shower energy of
0.2-0.8 GeV showers went from 0.91-0.92 to 0.94-0.96 of the truth with a 4-count threshold
(that of 0.15-0.6 GeV deposits with no other particle within 50 ns: 0.946), and with one
count to 0.998; the pre-shower cut's signal efficiency from 0.972 to 0.981 and 0.985. The median pre-shower energy of pions went from 31 to 39 and 60 MeV (truth ~30 MeV:
noise and pile-up now counted), their pass rate of the pre-shower cut from 5.0 % to 5.9 %
and 6.3 %.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from .calibration import CaloCalibration, cell_energy
from .digit_rows import digit_rows
from .fit_bounds import fixed_time_amplitude

if TYPE_CHECKING:
    from .reconstruct import CaloConfig

__all__ = ["measure_quiet_neighbours", "largest_tower"]


def largest_tower(e_in: np.ndarray, calibration: CaloCalibration) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of the ECAL tower (pre-shower + main) with the most in-time energy per event;
    -1 where no tower has any."""
    layout = calibration.layout
    nx, ny = layout.shape("ECAL0")
    e0, e1 = layout.cells_of("ECAL0"), layout.cells_of("ECAL1")
    tower = e_in[:, e0] + e_in[:, e1]
    best = np.argmax(tower, axis=1)
    has = tower[np.arange(tower.shape[0]), best] > 0.0
    return np.where(has, best // ny, -1), np.where(has, best % ny, -1)


def measure_quiet_neighbours(
    e_in: np.ndarray,
    master: np.ndarray,
    spill_row: np.ndarray,
    calibration: CaloCalibration,
    config: CaloConfig,
    digits: Mapping[str, np.ndarray],
) -> None:
    """Set, in place, the in-time energy of the cells of ``config.quiet_templates``' planes
    within one cell of the largest ECAL tower that have none, from a fixed-time measurement
    of their samples (``digits``: the batch's MSADC digits with event, plane, x, y, samples,
    nsamples), where it reaches ``config.quiet_min_adc``."""
    layout = calibration.layout
    n_events = e_in.shape[0]
    mx, my = largest_tower(e_in, calibration)
    events = np.flatnonzero((mx >= 0) & np.isfinite(master))
    if not events.size:
        return
    offsets = np.array([(i, j) for i in (-1, 0, 1) for j in (-1, 0, 1)])
    for name, template in config.quiet_templates.items():
        # an ECAL section: its cell (x, y) lies in the tower (x, y)
        nx, ny = layout.shape(name)
        base = layout.cells_of(name).start
        x = mx[events][:, None] + offsets[None, :, 0]
        y = my[events][:, None] + offsets[None, :, 1]
        inside = (x >= 0) & (x < nx) & (y >= 0) & (y < ny)
        ev = np.broadcast_to(events[:, None], x.shape)[inside]
        local = x[inside] * ny + y[inside]
        cell = base + local
        rows = digit_rows(digits, layout, name, ev, local, n_events)
        pick = (e_in[ev, cell] <= 0.0) & (rows >= 0)
        if not pick.any():
            continue
        ev, cell, rows = ev[pick], cell[pick], rows[pick]
        amp = fixed_time_amplitude(np.asarray(digits["samples"])[rows], np.asarray(digits["nsamples"])[rows],
                                   master[ev] + calibration.time_mean_ns[cell], template)  # fmt: skip
        hit = amp >= config.quiet_min_adc
        e_in[ev[hit], cell[hit]] = cell_energy(amp[hit], ev[hit], cell[hit], spill_row, calibration)
