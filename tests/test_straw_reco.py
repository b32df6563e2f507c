"""Straw reconstruction against straight tracks through staggered doublets."""

from __future__ import annotations

import numpy as np
import pytest

import na64reco.straw as straw
from na64reco.straw.synthetic import straight_tracks


@pytest.fixture(scope="module")
def setup():
    return straw.load_geometry(path=straw.TOY_GEOMETRY), straw.load_rt()


def _truth_u(geometry, clusters, truth):
    g = geometry.arrays()
    ev, z = clusters.event, clusters.z
    return np.where(g["axis"][clusters.plane] == 0, truth.x0[ev] + truth.tx[ev] * z, truth.y0[ev] + truth.ty[ev] * z)


def test_clusters_and_segments_recover_the_tracks(setup):
    geometry, rt = setup
    rng = np.random.default_rng(11)
    hits, truth = straight_tracks(rng, 3000, geometry, rt, smear_mm=0.15)
    res = straw.reconstruct_straws(hits, 3000, geometry, rt)
    ev, cl = res.events, res.clusters
    assert ev.seg_ok.all() and np.all(ev.straw_hits == 12) and np.all(ev.straw_dropped == 0)
    assert np.all(cl.n_hits == 2) and cl.ambiguous.mean() < 0.05
    resid = cl.u - _truth_u(geometry, cl, truth)
    assert np.std(resid) == pytest.approx(0.15 / np.sqrt(2), rel=0.15)
    assert np.all(np.abs(resid) < 1.0)
    assert np.std(ev.seg_x0 - truth.x0) < 0.5 and np.std(ev.seg_tx - truth.tx) < 2e-4
    assert np.all(ev.seg_ndf == 2)
    assert np.mean(ev.seg_chi2) == pytest.approx(2.0, rel=0.25)  # chi2 with 2 dof
    # points: one per station (one X and one Y cluster each)
    assert res.points.nrows == 3 * 3000


def test_single_layer_hits_stay_ambiguous_and_the_segment_chooses(setup):
    geometry, rt = setup
    rng = np.random.default_rng(12)
    hits, truth = straight_tracks(rng, 2000, geometry, rt, smear_mm=0.1)
    keep = hits.layer == 0  # a dead layer: every cluster is a single hit
    res = straw.reconstruct_straws(hits.take(keep), 2000, geometry, rt)
    cl = res.clusters
    assert cl.ambiguous.all() and np.isfinite(cl.u_alt).all()
    true_u = _truth_u(geometry, cl, truth)
    near = np.minimum(np.abs(cl.u - true_u), np.abs(cl.u_alt - true_u))
    assert np.percentile(near, 99) < 0.5  # one of the two candidates is the track
    # the segment takes the left-right combination of least chi2: never worse than the truth's
    best_true = np.where(np.abs(cl.u - true_u) <= np.abs(cl.u_alt - true_u), cl.u, cl.u_alt)
    g = geometry.arrays()
    order = np.lexsort((cl.plane, cl.event))
    assert np.all(np.bincount(cl.event, minlength=2000) == 6)
    u = best_true[order].reshape(2000, 6)
    z = cl.z[order].reshape(2000, 6)
    w = 1.0 / cl.u_err[order].reshape(2000, 6) ** 2
    axis = g["axis"][cl.plane[order].reshape(2000, 6)]
    chi2_true = np.zeros(2000)
    for a in (0, 1):
        m = axis == a
        uu, zz, ww = u[m].reshape(2000, 3), z[m].reshape(2000, 3), w[m].reshape(2000, 3)
        s0, sz, szz = ww.sum(1), (ww * zz).sum(1), (ww * zz * zz).sum(1)
        su, szu = (ww * uu).sum(1), (ww * zz * uu).sum(1)
        det = s0 * szz - sz * sz
        c0, c1 = (szz * su - sz * szu) / det, (s0 * szu - sz * su) / det
        chi2_true += (ww * (uu - c0[:, None] - c1[:, None] * zz) ** 2).sum(1)
    assert res.events.seg_ok.all()
    assert np.all(res.events.seg_chi2 <= chi2_true + 1e-6)


def test_hits_outside_the_window_bad_addresses_and_duplicates_are_counted(setup):
    geometry, rt = setup
    hits = {
        "event": np.array([0, 0, 0, 0, 1, 1]),
        "plane": np.array([0, 0, 0, 17, 1, -1]),
        "layer": np.array([0, 0, 1, 0, 0, 0]),
        "tube": np.array([30, 30, 30, 0, 99, 0]),
        "time_ns": np.array([20.0, 35.0, 500.0, 10.0, 10.0, 10.0]),
    }
    res = straw.reconstruct_straws(hits, 2, geometry, rt)
    assert res.hits.status.tolist() == [0, 3, 1, 2, 2, 2]
    assert res.events.straw_dropped.tolist() == [2, 0]
    assert res.events.straw_bad.tolist() == [1, 2]
    assert res.events.straw_hits.tolist() == [1, 0]
    assert not res.events.seg_ok.any()


def test_unsorted_input_keeps_hit_order(setup):
    geometry, rt = setup
    rng = np.random.default_rng(13)
    hits, _ = straight_tracks(rng, 50, geometry, rt)
    perm = rng.permutation(hits.nrows)
    a = straw.reconstruct_straws(hits, 50, geometry, rt)
    b = straw.reconstruct_straws(hits.take(perm), 50, geometry, rt)
    np.testing.assert_array_equal(b.hits.radius, a.hits.radius[perm])
    np.testing.assert_array_equal(a.events.seg_x0, b.events.seg_x0)


def test_noise_hits_do_not_spoil_the_segment(setup):
    geometry, rt = setup
    rng = np.random.default_rng(14)
    hits, truth = straight_tracks(rng, 2000, geometry, rt, noise_hits=2.0)
    res = straw.reconstruct_straws(hits, 2000, geometry, rt)
    ev = res.events
    assert ev.seg_ok.mean() > 0.99
    assert np.mean(np.abs(ev.seg_x0 - truth.x0) < 1.0) > 0.97


def test_event_index_errors(setup):
    geometry, rt = setup
    h = {"event": np.array([3]), "plane": np.array([0]), "layer": np.array([0]), "tube": np.array([0]),
         "time_ns": np.array([1.0])}  # fmt: skip
    with pytest.raises(ValueError, match="row 0 has event 3, expected 0..1"):
        straw.reconstruct_straws(h, 2, geometry, rt)
    with pytest.raises(ValueError, match="expected a 1-d array of length 1"):
        straw.reconstruct_straws({**h, "tube": np.array([0, 1])}, 4, geometry, rt)
