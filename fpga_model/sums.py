"""Saturating adder trees: 4-input ap_uint<16> SAT adders, one register per level.

Every tree has ``TREE_LEVELS`` = 4 levels (a 36-input tree gets a pass-through register as
its last level) so that all sums leave with the same latency. Because every operand is
non-negative, saturating at each node equals saturating the exact total once: the stream
model builds the real tree, the block model uses the closed form, and the tests hold them
to each other.
"""

from __future__ import annotations

import numpy as np

from ._util import delay_line

__all__ = ["SUM_MAX", "TREE_LEVELS", "AdderTreeStream", "adder_tree_block", "adder_tree_reset"]

SUM_MAX = 65535
TREE_LEVELS = 4
FAN_IN = 4


def _node(values: list[int]) -> int:
    return min(sum(values), SUM_MAX)


class AdderTreeStream:
    def __init__(self, n_inputs: int) -> None:
        self.n_inputs = n_inputs
        widths = []
        n = n_inputs
        for _ in range(TREE_LEVELS):
            n = max(1, -(-n // FAN_IN))
            widths.append(n)
        if widths[-1] != 1:
            raise ValueError(f"{n_inputs} inputs need more than {TREE_LEVELS} levels of {FAN_IN}-input adders")
        self.widths = widths
        self.reset()

    def reset(self) -> None:
        self.levels = [[0] * w for w in self.widths]

    def step(self, inputs: list[int]) -> int:
        y = self.levels[-1][0]
        sources = [list(inputs)] + self.levels[:-1]
        new_levels = []
        for src, width in zip(sources, self.widths):
            if len(src) == width:  # pass-through level
                new_levels.append(list(src))
            else:
                new_levels.append([_node(src[i * FAN_IN:(i + 1) * FAN_IN]) for i in range(width)])
        self.levels = new_levels
        return y


def adder_tree_reset(shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    return {"pipe": np.zeros(shape + (TREE_LEVELS,), dtype=np.int64)}


def adder_tree_block(values: np.ndarray, state: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``values`` (..., n_inputs, T) -> sum (..., T) delayed by TREE_LEVELS clocks."""
    total = np.minimum(np.asarray(values, dtype=np.int64).sum(axis=-2), SUM_MAX)
    y, pipe = delay_line(total, state["pipe"])
    return y, {"pipe": pipe}
