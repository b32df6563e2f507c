"""Output blocks: slicing and concatenating reco batches keeps jagged rows with their events."""

from __future__ import annotations

import awkward as ak
import numpy as np
from hypothesis import given
from hypothesis import strategies as stg

from na64reco.columns import Columns
from na64reco.output.histograms import StandardHistograms
from na64reco.pipeline.batch import RecoBatch


def _batch(counts: list[int], base: int) -> RecoBatch:
    n = len(counts)
    rows = np.repeat(np.arange(n), counts)
    cells = Columns(row=rows, energy=np.arange(rows.size, dtype=float) + base)
    return RecoBatch(Columns(event=np.arange(n) + base), {"cells": cells})


@given(stg.lists(stg.lists(stg.integers(0, 4), max_size=12), min_size=1, max_size=5), stg.data())
def test_slice_and_concatenate_are_inverse(parts, data):
    batches = [_batch(c, 100 * k) for k, c in enumerate(parts)]
    whole = RecoBatch.concatenate(batches)
    expected = [ak.to_list(b.to_awkward()) for b in batches]
    assert ak.to_list(whole.to_awkward()) == sum(expected, [])
    n = whole.nevents
    cut = data.draw(stg.integers(0, n))
    left, right = whole.slice(0, cut), whole.slice(cut, n)
    assert ak.to_list(left.to_awkward()) + ak.to_list(right.to_awkward()) == ak.to_list(whole.to_awkward())
    picked = whole.take(np.arange(cut, n))
    assert ak.to_list(picked.to_awkward()) == ak.to_list(right.to_awkward())


def test_histogram_counts_add_up_with_flow_and_nan():
    h = StandardHistograms()
    x = np.array([-5.0, 0.0, 0.5, 149.9, 150.0, 1e300, np.nan])
    h.fill("e_ecal", x)
    counts = h.counts["e_ecal"]
    assert counts.sum() == 6  # NaN is not counted
    assert counts[0] == 1 and counts[-1] == 2  # underflow; 150 and 1e300 overflow
    assert counts[1] == 2 and counts[150] == 1
    h2 = StandardHistograms()
    h2.fill("e_ecal", x)
    h.add(h2)
    assert h.counts["e_ecal"].sum() == 12
    hh = h.to_hist()["e_ecal"]
    assert hh.values(flow=True).sum() == 12


def test_root_tree_reserves_room_for_the_expected_blocks_and_still_grows(tmp_path):
    import uproot

    from na64reco.output.writers import basket_capacity, open_writer
    from na64reco.pipeline.accounting import Accounting

    assert basket_capacity(0, 1000) == 10  # unknown size: uproot's default
    assert basket_capacity(100_000, 10_000) == 12  # ten full blocks and partial ones at chunk ends
    assert basket_capacity(1_000_001, 10_000) == 103
    for expected, nblocks in ((5 * 7, 5), (7, 25)):  # room for all blocks / far fewer than written
        path = tmp_path / f"out{expected}.root"
        writer = open_writer(path, "root", 7, True, "zstd", force=False, expected_rows=expected)
        for k in range(nblocks):
            writer.write(_batch([1, 0, 2, 1, 0, 3, 1], 100 * k))
        writer.finish(StandardHistograms(), Accounting(), {})
        with uproot.open(path) as f:
            tree = f["events"]
            assert tree.num_entries == 7 * nblocks
            assert tree["event"].num_baskets == nblocks
            events = tree["event"].array(library="np")
            energy = tree["cells_energy"].array(library="np")
        assert list(events) == [100 * k + i for k in range(nblocks) for i in range(7)]
        assert [len(e) for e in energy] == [1, 0, 2, 1, 0, 3, 1] * nblocks
