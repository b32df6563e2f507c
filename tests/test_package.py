import subprocess
import sys

import numpy as np
import pytest

import na64reco as nr
from na64reco.cli import build_parser, main


def test_compiled_core_reports_its_build():
    info = nr.build_info()
    assert info.startswith("compiler ")


def test_columns_rejects_ragged_lengths():
    with pytest.raises(ValueError, match="has 2 rows, expected 3"):
        nr.Columns(a=np.zeros(3), b=np.zeros(2))


def test_columns_take_and_concatenate_keep_rows_aligned():
    t = nr.Columns(a=np.arange(5), b=np.arange(5) * 10)
    sub = t.take(t.a % 2 == 0)
    assert sub.a.tolist() == [0, 2, 4] and sub.b.tolist() == [0, 20, 40]
    both = nr.Columns.concatenate([sub, sub])
    assert both.nrows == 6 and both.b.tolist() == [0, 20, 40, 0, 20, 40]
    with pytest.raises(AttributeError, match="no column 'c'"):
        _ = t.c


def test_every_subpackage_is_an_attribute_of_a_fresh_import(tmp_path):
    # the package imports its parts when first used; a fresh interpreter must still see them
    code = ("import na64reco as nr; "
            "[getattr(nr, m) for m in ('calo', 'cli', 'columns', 'config', 'detector', 'firmware', 'output', "
            "'pipeline', 'plotting', 'raw', 'selection', 'sim', 'straw', 'waveform')]; "
            "print(nr.waveform.load_template('ecal').peak_value, nr.run_job.__name__, nr.Columns.__name__, "
            "nr.output.read_events.__name__, nr.pipeline.RecoBatch.__name__, sorted(dir(nr)) == sorted(nr.__all__))")
    # (run elsewhere than the checkout: `python -c` puts the working directory first on its path)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=tmp_path).stdout.split()
    assert out[1:] == ["run_job", "Columns", "read_events", "RecoBatch", "True"]


def test_cli_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert nr.__version__ in capsys.readouterr().out
    assert build_parser().prog == "na64reco"


def test_compiled_core_reports_its_instruction_set():
    assert ", instruction set " in nr.build_info()


def test_a_cpu_without_the_built_for_features_is_refused(tmp_path):
    from na64reco._cpu import check_cpu, missing_cpu_flags

    old = tmp_path / "cpuinfo"
    old.write_text("processor\t: 0\nflags\t\t: fpu sse sse2 avx\n\nprocessor\t: 1\nflags\t\t: fpu sse sse2 avx\n")
    assert missing_cpu_flags(("avx", "avx2", "fma"), old) == ["avx2", "fma"]
    with pytest.raises(ImportError, match=r"built for x86-64-v3.*this CPU lacks avx2, fma\. Rebuild"):
        check_cpu(("avx", "avx2", "fma"), "x86-64-v3", old)
    check_cpu(("avx",), "x86-64-v1", old)  # everything there: no complaint
    unknown = tmp_path / "no-flags"
    unknown.write_text("processor\t: 0\n")
    assert missing_cpu_flags(("avx2",), unknown) == []  # cannot be told: not refused
    assert missing_cpu_flags(("avx2",), tmp_path / "absent") == []
