"""Minimal DATE files for the pipeline tests (headers and opaque payload words only)."""

from __future__ import annotations

import numpy as np

MAGIC = 0xDA1E5AFE


def date_event(run: int, spill: int, ev_in_spill: int, ev_in_run: int, etype: int = 7,
               trigger: int = 1, payload_words: int = 4) -> bytes:
    size = 68 + 4 * payload_words
    head = np.zeros(17, "<u4")
    head[0] = size
    head[1] = MAGIC
    head[2] = 68
    head[3] = 0x0003000E
    head[4] = etype
    head[5] = run
    head[6] = ev_in_run
    head[7] = (spill << 20) | ev_in_spill
    head[8] = (trigger << 1) & 0xFFFFFFFF
    head[9] = trigger >> 31
    head[16] = 1_700_000_000 + spill
    payload = np.arange(payload_words, dtype="<u4")
    return head.tobytes() + payload.tobytes()


def write_run(path, nspills: int = 3, per_spill: int = 50, run: int = 3661, seed: int = 1) -> int:
    """A run: start of burst, physics events, end of burst per spill. Returns the event count."""
    rng = np.random.default_rng(seed)
    parts = []
    n_in_run = 0
    for spill in range(1, nspills + 1):
        parts.append(date_event(run, spill, 0, n_in_run, etype=5, payload_words=0))
        n_in_run += 1
        for k in range(1, per_spill + 1):
            parts.append(date_event(run, spill, k, n_in_run, trigger=int(rng.integers(1, 8)),
                                    payload_words=int(rng.integers(0, 9))))
            n_in_run += 1
        parts.append(date_event(run, spill, per_spill + 1, n_in_run, etype=6, payload_words=2))
        n_in_run += 1
    with open(path, "wb") as fh:
        fh.write(b"".join(parts))
    return n_in_run
