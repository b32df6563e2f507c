"""Event selection: the invisible-mode cut flow (``CutFlow.load()``) and its table."""

from __future__ import annotations

from .cutflow import DEFAULT_CUTS, Cut, CutFlow, CutFlowError, CutFlowResult

__all__ = ["DEFAULT_CUTS", "Cut", "CutFlow", "CutFlowError", "CutFlowResult"]
