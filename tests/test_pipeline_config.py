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
    f.write_text('[cuts]\ne_ecal_max = 40\n[output]\nformat = "parquet"\n')
    cfg = load_config(f)
    assert cfg.get("cuts.e_ecal_max") == 40.0 and isinstance(cfg.get("cuts.e_ecal_max"), float)
    assert cfg.get("output.format") == "parquet"
    assert cfg.get("cuts.e_hcal_max") == SCHEMA["cuts"]["e_hcal_max"].default
    assert cfg.digest() != JobConfig().digest()


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ('[cuts]\ne_ecal_max = "fifty"\n', r"cuts\.e_ecal_max.*'fifty'.*a number in \[0, 1000\]"),
        ("[cuts]\ne_ecal_max = -3\n", r"cuts\.e_ecal_max.*-3.*in \[0, 1000\]"),
        ('[output]\nformat = "csv"\n', r"output\.format.*'csv'.*one of 'root', 'parquet'"),
        ("[job]\nevents_per_chunk = 2.5\n", r"job\.events_per_chunk.*2\.5.*an integer"),
        ("[job]\nstrict = 1\n", r"job\.strict.*true or false"),
        ("[cuts]\ne_ecall_max = 3\n", r"cuts\.e_ecall_max.*unknown.*e_ecal_max"),
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

    cfg = load_config(overrides={"cuts.e_hcal_max": 2.0})
    again = pickle.loads(pickle.dumps(cfg))
    assert again.to_dict() == cfg.to_dict() and again.digest() == cfg.digest()
