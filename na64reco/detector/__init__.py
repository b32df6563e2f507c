"""Detector description: channel maps, geometry and calibration selected by run.

``setup = load_setup(run)`` gives the planes, their shapes, the channel maps as ``Columns``,
vectorised address <-> cell lookups, the geometry and the calibration valid for that run.
File formats: docs/detector-description.md.
"""

from __future__ import annotations

from .calibration import Calibration
from .errors import ConfigError
from .geometry import SADC_PLANES, STRAW_PLANES, Geometry
from .maps import ChannelMap
from .setup import Setup, load_setup

__all__ = ["Calibration", "ChannelMap", "ConfigError", "Geometry", "SADC_PLANES", "STRAW_PLANES",
           "Setup", "load_setup"]
