"""Writer -> C++ decoder round trip: every field of every event, digit and hit, bit for bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import na64reco as nr
from na64reco.raw import write_raw

U32 = 2**32 - 1


@st.composite
def raw_tables(draw):
    n_events = draw(st.integers(1, 10))
    types = draw(st.lists(st.sampled_from([7, 7, 7, 8, 6, 5, 1, 2, 9]), min_size=n_events, max_size=n_events))
    types = np.asarray(types)
    carries = np.isin(types, [6, 7, 8])
    spill_hi = np.where(carries, 2047, 4095)
    events = dict(
        run=np.full(n_events, draw(st.integers(0, U32)), dtype=np.uint32),
        spill=np.asarray([draw(st.integers(0, int(h))) for h in spill_hi], dtype=np.uint32),
        event_in_run=np.asarray(draw(st.lists(st.integers(0, U32), min_size=n_events, max_size=n_events)), dtype=np.uint32),
        event_in_spill=np.asarray(draw(st.lists(st.integers(0, 2**20 - 1), min_size=n_events, max_size=n_events)), dtype=np.uint32),
        type=types.astype(np.uint16),
        trigger_mask=np.asarray(draw(st.lists(st.integers(0, 2**63 - 1), min_size=n_events, max_size=n_events)), dtype=np.uint64),
        time=np.asarray(draw(st.lists(st.integers(0, U32), min_size=n_events, max_size=n_events)), dtype=np.uint32),
    )
    ids = draw(st.lists(st.integers(0, 895), min_size=1, max_size=6, unique=True))
    n_f1 = draw(st.integers(0, min(2, len(ids) - 1)))
    f1_sources, adc_sources = ids[:n_f1], ids[n_f1:]
    carrying = np.flatnonzero(carries)

    n_digits = draw(st.integers(0, 40)) if carrying.size else 0
    ns = np.asarray(draw(st.lists(st.integers(0, 70), min_size=n_digits, max_size=n_digits)), dtype=np.int64)
    width = int(ns.max()) if n_digits else 0
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    samples = rng.integers(0, 4096, size=(n_digits, width), dtype=np.uint16)
    if n_digits and draw(st.booleans()):
        samples[rng.random(samples.shape) < 0.1] = 4095  # overflow code
    sadc = dict(
        event=rng.choice(carrying, n_digits) if n_digits else np.zeros(0, np.int64),
        source_id=rng.choice(adc_sources, n_digits),
        port=rng.integers(0, 8, n_digits), chip=rng.integers(0, 4, n_digits),
        channel=rng.integers(0, 16, n_digits), nsamples=ns, samples=samples,
    )
    if draw(st.booleans()):
        sadc["sum"] = rng.integers(0, 2**16, n_digits)

    n_hits = draw(st.integers(0, 30)) if (carrying.size and f1_sources) else 0
    tdc = dict(
        event=rng.choice(carrying, n_hits) if n_hits else np.zeros(0, np.int64),
        source_id=rng.choice(f1_sources, n_hits) if n_hits else np.zeros(0, np.int64),
        port=rng.integers(0, 16, n_hits), chip=rng.integers(0, 8, n_hits),
        channel=rng.integers(0, 8, n_hits), raw_time=rng.integers(0, 2**16, n_hits),
        trigger_time=rng.choice(rng.integers(0, 512, 3), n_hits),
    )

    options: dict = {}
    if draw(st.booleans()):
        options["sources"] = ids  # every source sends a block, empty or not
    mux_members: list[int] = []
    if len(ids) > 1 and draw(st.booleans()):
        mux_members = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=len(ids), unique=True))
        options["multiplexed_sources"] = {draw(st.integers(896, 1023)): mux_members}
    if draw(st.booleans()):
        options["super_events"] = True
        present = set(options.get("sources", [])) | set(mux_members)
        present |= set(np.asarray(sadc["source_id"]).tolist()) | set(np.asarray(tdc["source_id"]).tolist())
        equipments = sorted(present - set(mux_members)) + list(options.get("multiplexed_sources", {}))
        if equipments and draw(st.booleans()):
            order = draw(st.permutations(equipments))
            cut = draw(st.integers(1, len(order)))
            groups = [order[:cut], order[cut:]] if cut < len(order) else [order]
            options["ldc_groups"] = {100 + i: g for i, g in enumerate(groups)}
    if draw(st.booleans()):
        options["chunk_events"] = draw(st.integers(1, 4))  # chunk boundaries inside the file
    return events, sadc, tdc, options


def _stable_by(table: dict, *keys: str) -> np.ndarray:
    return np.lexsort(tuple(np.asarray(table[k]) for k in reversed(keys)))


@given(raw_tables())
def test_decoder_reads_back_what_the_writer_wrote(tables):
    events, sadc, tdc, options = tables
    blob = nr.raw.encode_events(events, sadc, tdc, **options)
    batch = nr.decode_bytes(blob)

    assert batch.errors.nrows == 0, batch.error_counts()
    ev = batch.events
    n = len(events["run"])
    assert ev.nrows == n
    assert ev["index"].tolist() == list(range(n))
    assert int(ev["offset"][-1]) + int(ev["size"][-1]) == len(blob)
    assert (np.diff(ev["offset"].astype(np.int64)) == ev["size"][:-1].astype(np.int64)).all()
    for column in ("run", "spill", "event_in_run", "event_in_spill", "type", "trigger_mask", "time"):
        assert ev[column].tolist() == np.asarray(events[column]).tolist(), column
    assert (ev["nerrors"] == 0).all()

    # MSADC digits: same multiset, and the same order inside each ADC block
    got = batch.sadc
    want_ns = np.asarray(sadc["nsamples"])
    assert got.nrows == len(want_ns)
    width = max(32, int(want_ns.max()) if want_ns.size else 0)
    assert got["samples"].shape == (len(want_ns), width) and got["samples"].dtype == np.uint16
    want_samples = np.zeros((len(want_ns), width), dtype=np.uint16)
    for i, k in enumerate(want_ns):
        want_samples[i, :k] = sadc["samples"][i, :k]
    want_sum = np.asarray(sadc["sum"]) if "sum" in sadc else want_samples.sum(axis=1, dtype=np.int64) & 0xFFFF
    want = dict(event=sadc["event"], source_id=sadc["source_id"], port=sadc["port"], chip=sadc["chip"],
                channel=sadc["channel"], nsamples=want_ns, sum=want_sum)
    g_order = _stable_by(got, "event", "source_id", "port", "chip")
    w_order = _stable_by(want, "event", "source_id", "port", "chip")
    for column, values in want.items():
        assert got[column][g_order].tolist() == np.asarray(values)[w_order].tolist(), column
    assert np.array_equal(got["samples"][g_order], want_samples[w_order])

    # F1 hits: same order per (event, source, port), times by the documented convention
    hits = batch.tdc
    assert hits.nrows == len(tdc["raw_time"])
    g_order = _stable_by(hits, "event", "source_id", "port")
    w_order = _stable_by(tdc, "event", "source_id", "port")
    for column in ("event", "source_id", "port", "chip", "channel", "raw_time", "trigger_time"):
        assert hits[column][g_order].tolist() == np.asarray(tdc[column])[w_order].tolist(), column
    raw = np.asarray(tdc["raw_time"], dtype=np.int64)[w_order]
    trig = np.asarray(tdc["trigger_time"], dtype=np.int64)[w_order]
    bins = ((raw - (trig << 7)) & 0xFFFF).astype(np.uint16).view(np.int16)
    assert hits["time_bins"][g_order].tolist() == bins.tolist()
    assert np.array_equal(hits["time_ns"][g_order], bins * nr.raw.F1_BIN_NS)


def test_file_round_trip_in_batches(tmp_path):
    rng = np.random.default_rng(7)
    n_ev = 500
    events = dict(run=np.full(n_ev, 4242), spill=np.repeat(np.arange(1, 6), 100),
                  event_in_run=np.arange(1, n_ev + 1), event_in_spill=np.tile(np.arange(1, 101), 5),
                  type=np.where(np.arange(n_ev) % 100 == 99, 6, 7), trigger_mask=np.ones(n_ev, dtype=int),
                  time=np.full(n_ev, 1_700_000_000))
    n = 4000
    sadc = dict(event=np.sort(rng.integers(0, n_ev, n)), source_id=rng.choice([620, 621, 622], n),
                port=rng.integers(0, 3, n), chip=rng.integers(0, 4, n), channel=rng.integers(0, 16, n),
                nsamples=np.full(n, 32), samples=rng.integers(0, 4096, (n, 32)).astype(np.uint16))
    path = tmp_path / "run.dat"
    written = write_raw(path, events, sadc, super_events=True, multiplexed_sources=[[621, 622]])
    assert written == path.stat().st_size
    whole = nr.decode_bytes(path.read_bytes())
    parts = list(nr.open_raw(path).batches(77))
    joined = nr.raw.RawBatch.concatenate(parts)
    assert whole.errors.nrows == 0 and joined.events.nrows == n_ev
    for table in ("events", "sadc", "tdc"):
        a, b = getattr(whole, table), getattr(joined, table)
        for column in a:
            assert np.array_equal(a[column], b[column]), (table, column)
    assert whole.sadc.nrows == n
