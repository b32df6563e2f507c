"""Small helpers shared by the block (vectorised) models."""

from __future__ import annotations

import numpy as np


def register(comb: np.ndarray, out0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A one-clock output register over a chunk: ``y[t] = comb[t-1]``, ``y[0] = out0``.

    Returns ``(y, new_out)`` where ``new_out`` is the register content after the chunk.
    """
    if comb.shape[-1] == 0:
        return comb.copy(), out0
    out0 = np.asarray(out0, dtype=comb.dtype)
    y = np.concatenate([np.broadcast_to(out0[..., None], comb.shape[:-1] + (1,)), comb[..., :-1]], axis=-1)
    return y, comb[..., -1].copy()


def delay_line(comb: np.ndarray, pipe: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A chain of ``n`` registers (``pipe[..., 0]`` is the oldest value, next out).

    ``y[t] = comb[t-n]``, the first ``n`` outputs drain ``pipe``.
    """
    n = pipe.shape[-1]
    T = comb.shape[-1]
    ext = np.concatenate([pipe.astype(comb.dtype, copy=False), comb], axis=-1)
    return ext[..., :T].copy(), ext[..., T:T + n].copy()


def last_index(mask: np.ndarray) -> np.ndarray:
    """For each position t, the largest index i <= t with mask[i] (along the last axis), else -1."""
    T = mask.shape[-1]
    idx = np.where(mask, np.arange(T, dtype=np.int64), np.int64(-1))
    return np.maximum.accumulate(idx, axis=-1)
