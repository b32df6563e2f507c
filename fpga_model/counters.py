"""Beam and veto counters: leading-edge discriminator with pulse stretcher, coincidence.

The counters' baseline subtraction is the per-channel pedestal stage (channel.py); these
stages take its registered output.
"""

from __future__ import annotations

import numpy as np

from ._util import last_index, register

__all__ = [
    "DiscriminatorStream",
    "discriminator_block",
    "discriminator_reset",
    "CoincidenceStream",
    "coincidence_block",
    "coincidence_reset",
]


class DiscriminatorStream:
    """Leading edge: the baseline-subtracted sample reaches the threshold after being below it.

    An edge loads the stretcher with ``stretch``; the output is high while it is non-zero, so
    one edge gives exactly ``stretch`` clocks of output, and an edge inside a stretched pulse
    restarts it.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.above = False
        self.count = 0
        self.out = False

    def step(self, b: int, threshold: int, stretch: int) -> bool:
        y = self.out
        above = b >= threshold
        edge = above and not self.above
        self.above = above
        if edge:
            self.count = stretch
        elif self.count > 0:
            self.count -= 1
        self.out = self.count > 0
        return y


def discriminator_reset(shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    return {"above": np.zeros(shape, dtype=bool), "count": np.zeros(shape, dtype=np.int64),
            "out": np.zeros(shape, dtype=bool)}


def discriminator_block(b: np.ndarray, state: dict[str, np.ndarray], threshold: np.ndarray,
                        stretch: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    b = np.asarray(b, dtype=np.int64)
    T = b.shape[-1]
    st = {k: v.copy() for k, v in state.items()}
    if T == 0:
        return np.zeros(b.shape, dtype=bool), st
    threshold = np.asarray(threshold, dtype=np.int64)[..., None]
    stretch = np.asarray(stretch, dtype=np.int64)
    above = b >= threshold
    prev_above = np.concatenate([st["above"][..., None], above[..., :-1]], axis=-1)
    edge = above & ~prev_above
    le = last_index(edge)
    t = np.arange(T)
    in_chunk = (t - le) < stretch[..., None]
    from_state = st["count"][..., None] - (t + 1) > 0
    comb = np.where(le >= 0, in_chunk, from_state)
    le_end = le[..., -1]
    st["count"] = np.where(le_end >= 0, np.maximum(stretch - (T - 1 - le_end), 0),
                           np.maximum(st["count"] - T, 0))
    st["above"] = above[..., -1].copy()
    y, st["out"] = register(comb, st["out"])
    return y, st


class CoincidenceStream:
    """beam = AND of the masked S counters, veto = OR of the masked V counters.

    Outputs (registered): the beam level, its rising edge, and the veto level.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.beam_prev = False
        self.out = (False, False, False)

    def step(self, levels: list[bool], coinc_mask: int, veto_mask: int) -> tuple[bool, bool, bool]:
        y = self.out
        beam = all(levels[i] for i in range(3) if coinc_mask >> i & 1)
        veto = any(levels[3 + i] for i in range(2) if veto_mask >> i & 1)
        edge = beam and not self.beam_prev
        self.beam_prev = beam
        self.out = (beam, edge, veto)
        return y


def coincidence_reset(shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    z = np.zeros(shape, dtype=bool)
    return {"beam_prev": z.copy(), "beam": z.copy(), "edge": z.copy(), "veto": z.copy()}


def coincidence_block(levels: np.ndarray, state: dict[str, np.ndarray], coinc_mask: int,
                      veto_mask: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """``levels`` (..., 5, T) stretched counter outputs in the order S1 S2 S3 V1 V2."""
    levels = np.asarray(levels, dtype=bool)
    st = {k: v.copy() for k, v in state.items()}
    shape = levels.shape[:-2] + levels.shape[-1:]
    beam = np.ones(shape, dtype=bool)
    for i in range(3):
        if coinc_mask >> i & 1:
            beam &= levels[..., i, :]
    veto = np.zeros(shape, dtype=bool)
    for i in range(2):
        if veto_mask >> i & 1:
            veto |= levels[..., 3 + i, :]
    if shape[-1] == 0:
        return beam, beam.copy(), veto, st
    prev = np.concatenate([st["beam_prev"][..., None], beam[..., :-1]], axis=-1)
    edge = beam & ~prev
    st["beam_prev"] = beam[..., -1].copy()
    beam_y, st["beam"] = register(beam, st["beam"])
    edge_y, st["edge"] = register(edge, st["edge"])
    veto_y, st["veto"] = register(veto, st["veto"])
    return beam_y, edge_y, veto_y, st
