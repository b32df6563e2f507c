"""The whole chain on a small simulated run: energies, trigger emulation, truth matching."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pyarrow.parquet as pq
import pytest

from na64reco.output import read_accounting, read_events
from na64reco.pipeline import run_job
from na64reco.pipeline import status as st

sim = pytest.importorskip("na64reco.sim", reason="needs the simulator")


@pytest.fixture(scope="module")
def reco_of_sim(tmp_path_factory):
    d = tmp_path_factory.mktemp("sim")
    raw, truth = d / "run.dat", d / "truth.parquet"
    sim.simulate(400, 11, raw, truth=truth)
    result = run_job([raw], d / "reco.parquet")
    return result, read_events(result.output), pq.read_table(truth)


def test_every_simulated_event_is_reconstructed_and_counted(reco_of_sim):
    result, events, truth = reco_of_sim
    acc = read_accounting(result.output)
    assert acc["written"] == len(events) == truth.num_rows == 400
    assert sum(acc["outcomes"].values()) == acc["events_read"]
    assert result.stage_report and all(result.stage_report.values())
    assert not np.any(ak.to_numpy(events.status) & st.STAGE_MISSING)
    # rows pair with the truth by (run, spill, event)
    for name in ("run", "spill", "event"):
        assert np.array_equal(ak.to_numpy(events[name]), truth[name].to_numpy().astype(np.uint32)), name


def test_energies_follow_the_truth(reco_of_sim):
    _, events, truth = reco_of_sim
    e_reco = ak.to_numpy(events.e_ecal)
    e_true = truth["e_ecal_true"].to_numpy() / 1000.0  # truth is MeV, the reco output GeV
    clean = (ak.to_numpy(events.status) & (st.SATURATED | st.FIT_BAD | st.PILEUP)) == 0
    shower = clean & (e_true > 20.0)
    assert shower.sum() > 20
    ratio = e_reco[shower] / e_true[shower]
    assert 0.95 < np.median(ratio) < 1.05


def test_trigger_emulation_reproduces_the_recorded_bits(reco_of_sim):
    _, events, _ = reco_of_sim
    status = ak.to_numpy(events.status)
    assert np.count_nonzero(status & st.TRIGGER_MISMATCH) == 0
    physics_bit = ak.to_numpy(events.trigger_bits) & 1
    assert np.array_equal(physics_bit, ak.to_numpy(events.trigger_emulated) & 1)


def test_trigger_emulation_does_not_depend_on_the_event_blocks(reco_of_sim, tmp_path, monkeypatch):
    from na64reco.pipeline.stage_trigger import TriggerStage

    result, events, _ = reco_of_sim
    monkeypatch.setattr(TriggerStage, "EVENTS_PER_BLOCK", 37)  # 400 events: 11 blocks, the last one short
    raw = result.output.parent / "run.dat"
    again = read_events(run_job([raw], tmp_path / "blocks.parquet").output)
    assert np.any(ak.to_numpy(events.trigger_emulated))
    assert np.array_equal(ak.to_numpy(again.trigger_emulated), ak.to_numpy(events.trigger_emulated))


def test_suspect_fits_doubted_only_for_clipped_samples_reach_the_calorimeter_stage(reco_of_sim):
    # the calo stage trusts a clipped waveform whose fit is otherwise good when its clipped
    # samples lie away from the in-time pulse; the fit stage must say which those are
    import na64reco as nr
    from na64reco.pipeline import Reconstruction

    result, _, _ = reco_of_sim
    batch = nr.open_raw(result.output.parent / "run.dat").read_all()
    suspects = Reconstruction()(batch).extras["suspects"]
    sat_only = np.asarray(suspects["saturated_only"])
    assert sat_only.any() and not sat_only.all()
    assert np.all((np.asarray(suspects["samples"])[sat_only] >= 4095).any(axis=1))


def test_planes_with_a_failed_fit_are_marked_in_calo_status_but_bounded_for_the_selection(reco_of_sim):
    from na64reco.calo import STATUS_FIT_FAILED

    _, events, _ = reco_of_sim
    calo_status = ak.to_numpy(events.calo_status)
    failed = (calo_status & STATUS_FIT_FAILED) != 0
    assert 0 < failed.mean() < 0.9  # 3 MHz: clipped central cells under pile-up, mostly
    # the quality cut looks at calo_missing, which leaves the bit out: those events stay in the
    # flow, their doubtful cells bounded in e_ecal_max / e_hcal_max
    assert not np.any(ak.to_numpy(events.calo_missing) & STATUS_FIT_FAILED)
    status = ak.to_numpy(events.status)
    # mostly clipped or failed waveforms (the rest: a chi2/ndf beyond failed_fits' limit)
    assert np.mean((status[failed] & (st.SATURATED | st.FIT_BAD)) != 0) > 0.8


def test_ecal_and_srd_windows_are_fitted_at_their_leaders_times_the_counters_freely(reco_of_sim):
    import na64reco as nr
    from na64reco.config import load_config
    from na64reco.pipeline import Reconstruction
    from na64reco.pipeline.stage_common import SADC_PLANE_NAMES
    from na64reco.waveform import FLAGS

    result, _, _ = reco_of_sim
    batch = nr.open_raw(result.output.parent / "run.dat").read_all()

    def hinted_by_plane(leader_hints):
        extras = Reconstruction(load_config(overrides={"waveform.leader_hints": leader_hints}))(batch).extras
        plane = np.asarray(extras["digits"]["plane"])
        waves = extras["waves"]
        fitted = np.asarray(waves["fitted"])
        hinted = (np.asarray(waves["flags"]) & FLAGS["hinted"]) != 0
        return {name: hinted[fitted & (plane == i)].mean() for i, name in enumerate(SADC_PLANE_NAMES)
                if np.any(fitted & (plane == i))}, extras

    # the output says which pulses carry their leader's time
    hinted_pulses = ak.to_numpy(ak.flatten(reco_of_sim[1].pulses.hinted))
    assert 0 < hinted_pulses.mean() < 1
    on, extras_on = hinted_by_plane(True)
    off, extras_off = hinted_by_plane(False)
    # most ECAL and SRD windows keep the leader's times (3 MHz pile-up), no counter does
    assert on["ECAL1"] > 0.5 and on["ECAL0"] > 0.5 and on["SRD"] > 0.3
    assert all(on[c] == 0 for c in ("S1", "S2", "S3", "S4") if c in on)
    assert all(v == 0 for v in off.values())
    # the in-time energies agree where the clean electron showers are
    e_on = extras_on["calo"][0][1].events["e_ecal"]
    e_off = extras_off["calo"][0][1].events["e_ecal"]
    big = e_off > 20.0
    assert big.sum() > 20
    assert np.median(np.abs(e_on[big] / e_off[big] - 1)) < 0.002
