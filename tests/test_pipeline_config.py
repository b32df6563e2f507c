"""Job configuration: defaults, TOML overrides, and errors that name the key."""

from __future__ import annotations

import pytest

from na64reco.config import SCHEMA, ConfigError, JobConfig, load_config


def test_defaults_cover_every_schema_key():
    cfg = JobConfig()
    for section, keys in SCHEMA.items():
        for key, opt in keys.items():
            assert cfg[section][key] == opt.default


def test_toml_file_overrides_a_subset(tmp_path):
    f = tmp_path / "job.toml"
    f.write_text('[waveform]\nnoise_rms = 3\n[output]\nformat = "parquet"\n')
    cfg = load_config(f)
    assert cfg.get("waveform.noise_rms") == 3.0 and isinstance(cfg.get("waveform.noise_rms"), float)
    assert cfg.get("output.format") == "parquet"
    assert cfg.get("waveform.pileup") == SCHEMA["waveform"]["pileup"].default
    assert cfg.digest() != JobConfig().digest()


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ('[timing]\nwindow_ns = "wide"\n', r"timing\.window_ns.*'wide'.*a number in \[0, 400\]"),
        ("[timing]\nwindow_ns = -3\n", r"timing\.window_ns.*-3.*in \[0, 400\]"),
        ('[output]\nformat = "csv"\n', r"output\.format.*'csv'.*one of 'root', 'parquet'"),
        ("[job]\nevents_per_chunk = 2.5\n", r"job\.events_per_chunk.*2\.5.*an integer"),
        ("[job]\nstrict = 1\n", r"job\.strict.*true or false"),
        ("[cuts]\nfiles = 3\n", r"cuts\.files.*unknown.*file"),
        ("[cuts]\nfile = 3\n", r"cuts\.file.*3.*a string"),
        ("[cutz]\nx = 1\n", r"section 'cutz'.*unknown.*cuts"),
        ("[cuts\n", r"not valid TOML"),
    ],
)
def test_bad_values_name_the_key_and_the_allowed_values(tmp_path, text, pattern):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=pattern):
        load_config(f)


def test_missing_config_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "nope.toml")


def test_config_survives_pickling():
    import pickle

    cfg = load_config(overrides={"waveform.noise_rms": 2.5})
    again = pickle.loads(pickle.dumps(cfg))
    assert again.to_dict() == cfg.to_dict() and again.digest() == cfg.digest()
