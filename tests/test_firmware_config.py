"""Configuration files, register validation and bad sample input."""

from __future__ import annotations

import numpy as np
import pytest

from fpga_model import TriggerConfig, run_windows
from fpga_model.registers import REGISTERS
from na64reco.firmware.runner import to_c_config

fw = pytest.importorskip("na64reco.firmware")


def test_default_file_holds_the_register_table_defaults():
    assert fw.load_trigger_config() == TriggerConfig()
    text = fw.default_config_path().read_text()
    for reg in REGISTERS:
        assert reg.name in text


def test_whole_register_then_one_cell_override(tmp_path):
    path = tmp_path / "t.cfg"
    path.write_text("GAIN_ECAL1[3] = 17   # one cell\nGAIN_ECAL1 = 4096\nDEAD_TIME = 0x10\n")
    cfg = fw.load_trigger_config(path)
    gains = cfg.array("GAIN_ECAL1")
    assert gains[3] == 17 and (np.delete(gains, 3) == 4096).all()
    assert cfg.scalar("DEAD_TIME") == 16
    assert cfg.scalar("PED_SHIFT") == TriggerConfig().scalar("PED_SHIFT")


@pytest.mark.parametrize("line,message", [
    ("PRS_THRESHOLD = 65536", r"PRS_THRESHOLD \(ap_uint<16>\) = 65536 is out of range, legal 0..65535"),
    ("PILEUP_WINDOW = -1", r"PILEUP_WINDOW \(ap_uint<8>\) = -1 is out of range, legal 0..254"),
    ("DECISION_DELAY = 0", r"DECISION_DELAY .* legal 1..63"),
    ("CNT_THRESHOLD_S2 = 5000", r"CNT_THRESHOLD_S2 \(ap_uint<12>\) = 5000 .* legal 1..4095"),
    ("GAIN_HCAL[7] = 70000", r"GAIN_HCAL\[7\] .* legal 0..65535"),
    ("GAIN_HCAL[36] = 1", r"index 36 of GAIN_HCAL out of range, legal 0..35"),
    ("FILTER_LEN[0] = 2", r"FILTER_LEN is not indexed"),
    ("FILTER_LENGTH = 2", r"unknown trigger register 'FILTER_LENGTH'"),
    ("FILTER_LEN = two", r"not an integer"),
    ("FILTER_LEN 2", r"expected 'NAME = value'"),
    ("RANDOM_SEED = 0", r"RANDOM_SEED .* legal 1..4294967295"),
])
def test_bad_files_name_the_register_and_its_range(tmp_path, line, message):
    path = tmp_path / "bad.cfg"
    path.write_text(f"# header\n{line}\n")
    with pytest.raises(ValueError, match=message) as info:
        fw.load_trigger_config(path)
    assert f"{path}:2" in str(info.value)


def test_duplicate_assignment_rejected():
    with pytest.raises(ValueError, match="already set on line 1"):
        fw.parse_trigger_config("DEAD_TIME = 1\nDEAD_TIME = 2\n")


def test_missing_file_is_an_oserror(tmp_path):
    with pytest.raises(OSError, match="cannot read trigger configuration"):
        fw.load_trigger_config(tmp_path / "nope.cfg")


def test_config_object_validates_too():
    with pytest.raises(ValueError, match=r"FILTER_LEN \(ap_uint<4>\) = 9 is out of range, legal 1..8"):
        TriggerConfig({"FILTER_LEN": 9})
    with pytest.raises(ValueError, match="needs integer"):
        TriggerConfig({"FILTER_LEN": 2.0})


def roles(n=2, w=32, value=100, dtype=np.uint16):
    return [np.full((n, k, w), value, dtype=dtype) for k in (3, 2, 36, 36, 36)]


def test_samples_out_of_range_rejected_not_wrapped():
    arrays = roles()
    arrays[3][1, 5, 7] = 4096
    with pytest.raises(ValueError, match=r"ecal1: sample 4096 at \(event 1, channel 5, sample 7\) .* 0..4095"):
        fw.emulate(*arrays)
    arrays = roles(dtype=np.int32)
    arrays[0][0, 0, 0] = -1
    with pytest.raises(ValueError, match="beam: sample -1"):
        fw.emulate(*arrays)


def test_wrong_dtype_and_shape_rejected():
    arrays = roles()
    arrays[2] = arrays[2].astype(np.float32)
    with pytest.raises(TypeError, match="ecal0: samples must be an integer array"):
        fw.emulate(*arrays)
    arrays = roles()
    arrays[4] = arrays[4][:, :35]
    with pytest.raises(ValueError, match=r"hcal: expected shape \(n_events, 36, n_samples\)"):
        fw.emulate(*arrays)
    arrays = roles()
    arrays[1] = arrays[1][:1]
    with pytest.raises(ValueError, match="veto: 1 events, expected 2"):
        fw.emulate(*arrays)
    with pytest.raises(ValueError, match="0..4095"):
        run_windows(np.full((1, 113, 4), 5000))
    stream = fw.FirmwareStream()
    with pytest.raises(ValueError, match="0..4095"):
        stream.run(np.full((113, 4), 65535, dtype=np.uint16))


def test_c_library_rejects_bad_registers_and_samples():
    ffi, lib = fw._lib.library()
    cfg = to_c_config(TriggerConfig())
    assert lib.na64fw_config_check(cfg) == 0
    cfg.filter_len = 9
    assert lib.na64fw_config_check(cfg) == 4  # the fourth field
    st = ffi.new("na64fw_state *")
    samples = np.zeros((113, 4), np.uint16)
    out = ffi.new("na64fw_outputs *")
    assert lib.na64fw_run(st, cfg, ffi.from_buffer("uint16_t[]", samples), 4, 4, out) == lib.NA64FW_ERR_CONFIG
    cfg.filter_len = 4
    samples[7, 2] = 4096
    assert lib.na64fw_run(st, cfg, ffi.from_buffer("uint16_t[]", samples), 4, 4, out) == lib.NA64FW_ERR_SAMPLE
    assert lib.na64fw_run(st, cfg, ffi.NULL, 4, 4, out) == lib.NA64FW_ERR_NULL


def template_pulse(name: str, start_ns: float, amplitude: float, w: int = 32) -> np.ndarray:
    """Samples of the shipped pulse template (peak-normalised, time relative to the peak)."""
    data = np.loadtxt(fw.default_config_path().parents[1] / "templates" / f"{name}.txt")
    t = np.arange(w) * 12.5 - start_ns
    return np.rint(amplitude * np.interp(t, data[:, 0], data[:, 1], left=0.0, right=0.0)).astype(np.int64)


def test_emulate_a_clean_electron_fires_physics():
    """10 GeV in one ECAL1 cell, 1 GeV in the pre-shower, beam counters in time: physics,
    sums within 3% of the nominal calibration behind the default gains."""
    beam, veto, ecal0, ecal1, hcal = roles(1, 32, 200)
    beam[:] = (200 + template_pulse("counter", 130.0, 800)).astype(np.uint16)
    ecal1[:, 14] = (200 + template_pulse("ecal", 140.0, 10000 / 25)).astype(np.uint16)
    ecal0[:, 14] = (200 + template_pulse("ecal", 140.0, 1000 / 5)).astype(np.uint16)
    res = fw.emulate(beam, veto, ecal0, ecal1, hcal)
    assert res["physics"][0] and not res["veto"][0] and not res["pileup"][0]
    assert abs(int(res["e_ecal"][0]) * fw.ENERGY_LSB_MEV - 11000) < 0.03 * 11000
    assert abs(int(res["e_prs"][0]) * fw.ENERGY_LSB_MEV - 1000) < 0.03 * 1000
    veto[:, 0] = beam[:, 0]
    vetoed = fw.emulate(beam, veto, ecal0, ecal1, hcal)
    assert vetoed["veto"][0] and not vetoed["physics"][0]
    ecal1[:, 15] = ecal1[:, 14] * 8  # ~90 GeV more: above the ECAL threshold
    ecal1[:, 15] = np.minimum(ecal1[:, 15], 4095)
    veto[:] = 200
    assert not fw.emulate(beam, veto, ecal0, ecal1, hcal)["physics"][0]


def test_window_flag_columns_follow_the_bits_and_the_word():
    """The boolean columns of emulate_windows are the trigger bits and word bits they name,
    for every window of a varied batch (clean, vetoed, piled-up, random), all contiguous."""
    rng = np.random.default_rng(5)
    beam, veto, ecal0, ecal1, hcal = roles(64, 32, 200)
    pulse = template_pulse("counter", 130.0, 800).astype(np.uint16)
    beam[::2] += pulse
    veto[::4, 0] += pulse
    beam[2::8] += template_pulse("counter", 30.0, 800).astype(np.uint16)
    ecal0[:, 14] += template_pulse("ecal", 140.0, 200).astype(np.uint16)
    ecal1 += rng.integers(0, 400, size=ecal1.shape, dtype=np.uint16)
    samples = np.concatenate([beam, veto, ecal0, ecal1, hcal], axis=1)
    for cfg, varied in ((TriggerConfig(), ("physics", "pileup", "veto")),
                        (TriggerConfig.from_mapping({"RANDOM_THRESHOLD": 1 << 31}), ())):
        res = fw.emulate_windows(samples, cfg)
        bits, word = res["trigger_bits"], res["decision_word"]
        expect = {"physics": bits & 1, "beam": bits & 2, "random": bits & 4,
                  "pileup": word & np.uint64(8), "veto": word & np.uint64(16)}
        for name, value in expect.items():
            assert res[name].dtype == bool and res[name].flags.c_contiguous
            assert np.array_equal(res[name], value != 0), name
        for name in varied:
            assert 0 < res[name].sum() < len(bits), (name, res[name].sum())
        assert res["random"].all() == bool(varied == ())
        model = run_windows(samples, cfg)
        for name in ("trigger_bits", "decision_word", "n_triggers", "decision_clock", "e_prs", "e_ecal", "e_hcal"):
            assert np.array_equal(res[name], model[name]), name
