"""The channel pedestal of doubtful fits: per digit, the median over the batch's waveforms of
its channel of each waveform's smallest recorded sample (``channel_pedestal``), the pedestal
bound ``fit_bounds.amplitude_upper_bound`` uses when pile-up tails lift every sample of one
waveform."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["channel_pedestal"]


def channel_pedestal(
    digits: Mapping[str, np.ndarray],
    min_waveforms: int = 5,
    lowest: np.ndarray | None = None,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """Per digit row: the median, over the batch's waveforms of the same channel (plane, x,
    y), of each waveform's smallest recorded sample; inf where the channel has fewer than
    min_waveforms waveforms.

    Most waveforms of a channel carry no pile-up tail, so this sits at the pedestal (less
    about two noise sigmas) even for the waveform whose every sample a tail lifts, where
    its own smallest sample, or a fitted pedestal, would be too high and the amplitude
    bound too low. ``lowest``: each digit's smallest recorded sample when the caller already
    has it (``na64reco.raw.sample_range``). ``rows``: only these digit rows are wanted (the
    result then has one value per entry of ``rows``); only their channels are looked at, which
    is what the reconstruction needs (the channels of its few doubtful fits).
    """
    samples = np.asarray(digits["samples"])
    n, width = samples.shape
    if rows is not None:
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size and (rows.min() < 0 or rows.max() >= n):
            raise IndexError(f"rows must index the {n} digits, got values from {rows.min()} to {rows.max()}")
    if n == 0 or (rows is not None and rows.size == 0):
        return np.zeros(0)
    cell = np.asarray(digits["cell"]) if "cell" in digits else None
    if rows is not None and cell is not None and cell.dtype == np.int32 and (
        samples.dtype == np.uint16 or (lowest is not None and np.asarray(lowest).dtype.kind in "iu")
    ):
        # the annotated digits of a raw batch: one compiled pass over the rows' channels (the
        # decoder's uint16 counts read as they are)
        from .._core.calo import lowest_median_by_key

        counts = np.asarray(digits["nsamples"]) if "nsamples" in digits else np.full(n, width)
        if lowest is None:
            from ..raw import sample_range

            lowest = sample_range(samples, counts)[0]
        return lowest_median_by_key(cell, np.asarray(lowest, dtype=np.int32), counts, cell[rows], min_waveforms)
    ns = np.asarray(digits["nsamples"], dtype=np.int64) if "nsamples" in digits else np.full(n, width)
    plane, x, y = (np.asarray(digits[c]) for c in ("plane", "x", "y"))
    # the digits that take part (all, or those of the wanted rows' channels) and their dense
    # channel ids
    keyed = _channel_key(plane, x, y)
    table = None if rows is None or keyed is None else _channel_table(*keyed, rows)
    if table is None:
        members = None
        channel, n_channels = _channel_ids(plane, x, y, keyed)
    else:
        members, channel, n_channels, channel_of_rows = table
        ns = ns[members]
    if lowest is not None:
        lowest = np.asarray(lowest, dtype=np.float64)
        lowest = lowest[members] if members is not None else lowest.copy()
    else:
        picked = samples if members is None else samples[members]
        if picked.dtype == np.uint16:
            from ..raw import sample_range

            lowest = sample_range(picked, ns)[0].astype(np.float64)
        elif int(ns.min()) >= width:
            lowest = picked.min(axis=1).astype(np.float64)
        else:
            recorded = np.arange(width)[None, :] < ns[:, None]
            lowest = np.where(recorded, picked, np.iinfo(np.int32).max).min(axis=1).astype(np.float64)
    lowest[ns <= 0] = np.nan
    median = _median_per_channel(lowest, channel, n_channels, np.issubdtype(samples.dtype, np.integer), min_waveforms)
    if rows is None:
        return median[channel]
    return median[channel[rows]] if table is None else median[channel_of_rows]


def _channel_key(plane: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, int] | None:
    """One integer per digit for its (plane, x, y), below the returned table size, from the
    coordinate ranges (a few planes of at most tens of cells: a small table); None when the
    coordinates are too spread for a table."""
    lo = [int(v.min()) for v in (plane, x, y)]
    span = [int(v.max()) - low + 1 for v, low in zip((plane, x, y), lo)]
    if span[0] * span[1] * span[2] > 1 << 24:
        return None
    key = ((plane.astype(np.int32) - lo[0]) * span[1] + (x.astype(np.int32) - lo[1])) * span[2] + (y.astype(np.int32) - lo[2])
    return key, span[0] * span[1] * span[2]


def _channel_table(key: np.ndarray, size: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """For the channels of ``rows`` (channel key per digit below ``size``, negative keys
    counting from the table's end): the sorted rows of all their digits, each one's dense
    channel id, the number of channels and the channel id of each of ``rows``."""
    wanted = np.zeros(size, dtype=bool)
    wanted[key[rows]] = True
    members = np.flatnonzero(wanted[key])
    dense = np.cumsum(wanted, dtype=np.int64) - 1
    return members, dense[key[members]], int(dense[-1]) + 1, dense[key[rows]]


def _median_per_channel(lowest: np.ndarray, channel: np.ndarray, n_channels: int, integer: bool,
                        min_waveforms: int) -> np.ndarray:
    """Per channel id: the lower median of ``lowest`` over the rows of that channel (NaN
    ignored), inf for a channel with fewer than min_waveforms finite values."""
    valid = np.isfinite(lowest)
    median = np.full(n_channels, np.inf)
    if integer and valid.any():
        # integer ADC values: a histogram per channel and its cumulative sum find the
        # (lower) median without sorting the batch
        low = lowest[valid].astype(np.int64)
        base = int(low.min())
        span = int(low.max()) - base + 1
        if n_channels * span <= 1 << 24:
            counts = np.bincount(channel[valid] * span + (low - base), minlength=n_channels * span)
            cum = counts.reshape(n_channels, span).cumsum(axis=1)
            total = cum[:, -1]
            rank = (total - 1) // 2
            ok = total >= min_waveforms
            median[ok] = base + (cum[ok] <= rank[ok, None]).sum(axis=1)
            return median
    order = np.lexsort((lowest, channel))
    ch_sorted = channel[order]
    starts = np.flatnonzero(np.r_[True, ch_sorted[1:] != ch_sorted[:-1]])
    valid_per_group = np.bincount(channel, weights=valid.astype(np.float64), minlength=n_channels)[ch_sorted[starts]]
    valid_per_group = valid_per_group.astype(np.int64)
    ok = valid_per_group >= min_waveforms
    # NaNs sort last within a channel: the median of the finite values
    mid = starts + (valid_per_group - 1) // 2
    median[ch_sorted[starts[ok]]] = lowest[order][mid[ok]]
    return median


def _channel_ids(plane: np.ndarray, x: np.ndarray, y: np.ndarray,
                 keyed: tuple[np.ndarray, int] | None) -> tuple[np.ndarray, int]:
    """Dense ids 0..n-1 of the distinct (plane, x, y) and n; a lookup table of ``keyed`` (channel
    key per digit and the table size) instead of a sort when there is one (coordinates are
    small: a few planes of at most tens of cells)."""
    if keyed is not None:
        key, size = keyed
        present = np.zeros(size, dtype=bool)
        present[key] = True
        dense = np.cumsum(present, dtype=np.int64) - 1
        return dense[key], int(dense[-1]) + 1
    key = ((plane.astype(np.int64) + 1) << 40) + ((x.astype(np.int64) & 0xFFFFF) << 20) + (y.astype(np.int64) & 0xFFFFF)
    _, channel = np.unique(key, return_inverse=True)
    channel = channel.ravel()
    return channel, int(channel.max()) + 1
