"""Cut flow: parsing with file:line errors, counts and efficiencies, the signal box."""

from __future__ import annotations

import numpy as np
import pytest

import na64reco as nr
from na64reco.calo import load_calibration, reconstruct_calo
from na64reco.selection import CutFlow, CutFlowError
from na64reco.selection.synthetic import PARTICLE_ELECTRON, PARTICLE_HADRON, PARTICLE_SIGNAL, toy_events
from na64reco.straw import TOY_GEOMETRY, load_geometry, load_rt, reconstruct_straws


def test_counts_efficiencies_and_signal_box():
    flow = CutFlow.from_text("cut a  x > 1\nbox e  0 <= y < 10\ncut b  z == 2 and x < 5\n", "mem")
    ev = nr.Columns(x=np.array([0, 2, 3, 4, 9.0]), y=np.array([1, 5, 20, -1, 3.0]), z=np.array([2, 2, 2, 2, 2]))
    r = flow.apply(ev)
    assert r.table.cut.tolist() == ["all", "a", "e", "b"]
    assert r.table.passed.tolist() == [5, 4, 2, 1]
    assert r.table.efficiency.tolist() == pytest.approx([1.0, 0.8, 0.5, 0.5])
    assert r.table.cumulative.tolist() == pytest.approx([1.0, 0.8, 0.4, 0.2])
    assert r.events.selected.tolist() == [False, True, False, False, False]
    assert r.events.in_signal_box.tolist() == [True, True, False, False, True]
    assert r.events.first_failed.tolist() == [0, -1, 1, 1, 2]
    assert "cumulative" in r.format_table()


def test_nan_never_passes():
    r = CutFlow.from_text("cut a x < 1\ncut b x >= 1\n").apply({"x": np.array([np.nan, 0.5])})
    assert not r.events.pass_a[0] and not r.events.pass_b[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cut a x < 1\nfoo b x < 1\n", r"mem:2: kind 'foo', expected 'cut' or 'box'"),
        ("cut a x < 1\ncut a x > 2\n", r"mem:2: cut 'a' already defined at mem:1"),
        ("cut a x << 1\n", r"mem:1: expected 'VARIABLE OP NUMBER'"),
        ("cut a x < one\n", r"mem:1: 'one' is not a number"),
        ("cut a 3 < 1\n", r"mem:1: '3' is not a variable name"),
        ("cut a\n", r"mem:1: expected 'cut\|box NAME CONDITION'"),
        ("cut 1a x < 1\n", r"mem:1: cut name '1a' must be an identifier"),
        ("# nothing\n", r"mem: no cuts defined"),
        ("cut a x < nan\n", r"mem:1: NaN is not a usable threshold"),
    ],
)
def test_parse_errors_name_source_and_line(text, message):
    with pytest.raises(CutFlowError, match=message):
        CutFlow.from_text(text, "mem")


def test_missing_column_names_the_cut_line(tmp_path):
    p = tmp_path / "cuts.txt"
    p.write_text("# c\ncut a x < 1\n\ncut b nope > 0\n")
    with pytest.raises(CutFlowError, match=r"cuts\.txt:4: cut 'b' needs column 'nope'"):
        CutFlow.load(p).apply({"x": np.zeros(3)})


def test_default_cut_file_has_the_published_signal_box():
    flow = CutFlow.load()
    box = [c for c in flow.cuts if c.in_box]
    # the published box, also with doubtful waveform fits at their largest possible energy
    assert [str(c) for c in box] == ["e_ecal < 50 and e_ecal_max < 50", "e_hcal < 1 and e_hcal_max < 1"]
    names = [c.name for c in flow.cuts]
    assert names.index("timing") < names.index("straw_mult") < names.index("ecal_max_cell") < names.index("srd")
    assert names.index("srd") < names.index("prs") < names.index("e_ecal") < names.index("veto")
    assert names.index("veto") < names.index("hcal") < names.index("shower_chi2")


@pytest.mark.slow
def test_toy_signal_is_selected_and_electrons_and_hadrons_are_not():
    cal, geo, rt = load_calibration(1), load_geometry(path=TOY_GEOMETRY), load_rt()
    rng = np.random.default_rng(21)
    flow = CutFlow.load()
    frac = {}
    for kind in (PARTICLE_SIGNAL, PARTICLE_ELECTRON, PARTICLE_HADRON):
        pulses, hits, truth, present = toy_events(rng, 3000, cal, geo, rt, particle=kind, pileup_probability=0.1)
        calo = reconstruct_calo(pulses, 3000, cal, present=present)
        st = reconstruct_straws(hits, 3000, geo, rt)
        r = flow.apply(calo.events.with_columns(**st.events.to_dict()))
        frac[kind] = r.events.selected.mean()
    assert frac[PARTICLE_SIGNAL] > 0.85
    assert frac[PARTICLE_ELECTRON] == 0.0 and frac[PARTICLE_HADRON] == 0.0
