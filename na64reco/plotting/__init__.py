"""Pictures: event display, waveform with fitted pulses, standard DQM histograms.

Every function returns a ``matplotlib.figure.Figure`` built without pyplot (so it works
headless from the CLI and shows inline in Jupyter) and takes an optional ``ax``/``fig``
to draw into. ``save(fig, "out.png")`` writes a PNG.
"""

from __future__ import annotations

from .dqm import plot_cutflow, plot_dqm, plot_ecal_vs_hcal
from .event_display import plot_event
from .style import save
from .waveform import plot_waveform

__all__ = ["plot_cutflow", "plot_dqm", "plot_ecal_vs_hcal", "plot_event", "plot_waveform", "save"]
