"""Kedro wiring shared by the hooks and the CLI: mlops.yml read once per config loader, the
loader's patterns patched here (config.py only validates)."""

from __future__ import annotations

import pytest
from kedro.config import OmegaConfigLoader

from kedro_mlops.config import DEFAULT_BASE_IMAGE, PackagingConfig, parse_config
from kedro_mlops.errors import ConfigError
from kedro_mlops.hooks import project
from kedro_mlops.packaging import merge_options


def conf(tmp_path, text: str):
    (tmp_path / "conf" / "base").mkdir(parents=True, exist_ok=True)
    (tmp_path / "conf" / "local").mkdir(exist_ok=True)
    (tmp_path / "conf" / "base" / "mlops.yml").write_text(text)
    return OmegaConfigLoader(str(tmp_path / "conf"), base_env="base", default_run_env="local")


def test_mlops_yml_is_read_once_per_loader(tmp_path, monkeypatch):
    loader = conf(tmp_path, "registry:\n  model_name: churn\n")
    parsed = []
    monkeypatch.setattr(project, "parse_config", lambda *a: parsed.append(a) or parse_config(*a))
    first = project.load_project_config(loader, tmp_path)
    assert project.load_project_config(loader, tmp_path) is first
    assert first.registry.model_name == "churn"
    assert len(parsed) == 1
    assert "mlops" in loader.config_patterns
    other = conf(tmp_path, "registry:\n  model_name: other\n")  # a new loader reads again
    assert project.load_project_config(other, tmp_path).registry.model_name == "other"


def test_an_invalid_file_is_reported_every_time(tmp_path):
    loader = conf(tmp_path, "trackin: {}\n")
    for _ in range(2):
        with pytest.raises(ConfigError, match="unknown key 'trackin'"):
            project.load_project_config(loader, tmp_path)


def test_options_given_override_the_keys_and_empty_text_keeps_a_required_one():
    options = merge_options(PackagingConfig(tag="v1"), output="", base_image=None, tag="")
    assert (options.output, options.base_image, options.tag) == (
        "dist/mlops",
        DEFAULT_BASE_IMAGE,
        "",
    )
    with pytest.raises(TypeError, match="unknown option 'colour'"):
        merge_options(PackagingConfig(), colour="red")
