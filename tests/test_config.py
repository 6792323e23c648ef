from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
import yaml
from pydantic import Field

from kedro_mlops.config import (
    MlopsConfig,
    Section,
    config_files,
    parse_config,
    reference,
    section_model,
    validate_files,
)
from kedro_mlops.errors import ConfigError
from kedro_mlops.scaffold import default_config_file
from kedro_mlops.starters import project_template_dir

ROOT = Path(__file__).resolve().parents[1]
REPO_DEFAULT = ROOT / "conf" / "base" / "mlops.yml"


def test_repo_default_equals_the_model_defaults():
    """Every shipped value is the model's default, except the starter's checks."""
    shipped = yaml.safe_load(REPO_DEFAULT.read_text())
    parsed = parse_config(shipped)
    checks = shipped["monitoring"].pop("checks")
    assert parse_config(shipped) == MlopsConfig()
    assert [check.name for check in parsed.monitoring.checks] == [
        "production_batch",
        "served_traffic",
        "served_quality",
        "batch_quality",
    ]
    assert [check.get("reference") for check in checks] == ["reference_features"] * 2 + [None] * 2
    assert checks[1]["current"] == checks[2]["current"] == MlopsConfig().serving.log_dataset
    assert {check["performance"]["labels"] for check in checks[2:]} == {"ground_truth"}


def test_starter_ships_the_repo_default():
    starter_copy = project_template_dir() / "conf" / "base" / "mlops.yml"
    assert starter_copy.read_text() == REPO_DEFAULT.read_text()
    assert default_config_file("mlops.yml").read_text() == REPO_DEFAULT.read_text()


def test_empty_file_gives_defaults():
    assert parse_config(None) == MlopsConfig()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"trackin": {}},
            "unknown key 'trackin' "
            "(expected one of: tracking, registry, serving, rollout, packaging, monitoring, "
            "export, deploy)",
        ),
        (
            {"tracking": {"urii": "x"}},
            "unknown key 'tracking.urii' "
            "(expected one of: uri, on_error, server_timeout_s, lineage)",
        ),
        ({"tracking": {"lineage": {"gitt": True}}}, "unknown key 'tracking.lineage.gitt'"),
        (
            {"tracking": {"on_error": "ignore"}},
            "'tracking.on_error': Input should be 'fail' or 'warn'",
        ),
        ({"registry": {"gate": {"direction": "up"}}}, "'registry.gate.direction'"),
        ({"serving": {"model_uri": "churn"}}, "'churn' is not a model URI"),
        (
            {"monitoring": {"checks": [{"name": "a", "reference": "r", "current": "c"}] * 2}},
            "check names must be unique, repeated: ['a']",
        ),
        (
            {"monitoring": {"checks": [{"name": "a", "reference": "r", "current": "c", "x": 1}]}},
            "unknown key 'monitoring.checks.0.x' (expected one of: name, reference, current",
        ),
        (
            {"monitoring": {"checks": [{"name": "a", "reference": "r"}]}},
            "'monitoring.checks.0.current': Field required",
        ),
        (
            {"monitoring": {"checks": [{"name": "a b", "reference": "r", "current": "c"}]}},
            "'monitoring.checks.0.name': String should match pattern",
        ),
        ({"tracking": {"uri": 3}}, "'tracking.uri': Input should be a valid string"),
        ({"tracking": {"uri": "mlruns"}}, "'mlruns' is a plain path"),
        ({"packaging": {"prune": ["/opt/venv"]}}, "'packaging.prune': '/opt/venv' is"),
        (
            {"packaging": {"prune": ["../etc"]}},
            "'../etc' is not a path pattern under site-packages",
        ),
        ({"packaging": {"prune": ["*/"]}}, "'*/' is not a path pattern"),
        ({"packaging": {"prune": ["a b"]}}, "'a b' is not a path pattern"),
        ({"packaging": {"prune": ["x';rm -rf /'"]}}, "is not a path pattern"),
        ({"packaging": {"bytecode": "often"}}, "'packaging.bytecode': Input should be a valid"),
    ],
)
def test_errors_name_the_key_and_the_file(data, expected):
    with pytest.raises(ConfigError) as excinfo:
        parse_config(data, "conf/local/mlops.yml")
    message = excinfo.value.message
    assert message.startswith("Invalid kedro-mlops configuration in conf/local/mlops.yml:")
    assert expected in message


def test_validate_files_names_the_offending_file(tmp_path):
    (tmp_path / "base").mkdir()
    (tmp_path / "local").mkdir()
    (tmp_path / "base" / "mlops.yml").write_text("tracking:\n  uri: sqlite:///x.db\n")
    (tmp_path / "local" / "mlops.yml").write_text("tracking:\n  bogus: 1\n")
    files = config_files(tmp_path, ["base", "local"])
    assert [path.parent.name for path in files] == ["base", "local"]
    with pytest.raises(ConfigError, match=r"local/mlops.yml:\n  - unknown key 'tracking.bogus'"):
        validate_files(files, tmp_path)


def test_validate_files_rejects_invalid_yaml(tmp_path):
    path = tmp_path / "mlops.yml"
    path.write_text("tracking: [unclosed\n")
    with pytest.raises(ConfigError, match=r"mlops\.yml is not valid YAML"):
        validate_files([path], tmp_path)


def test_validate_files_rejects_a_list(tmp_path):
    path = tmp_path / "mlops.yml"
    path.write_text("- tracking\n")
    with pytest.raises(ConfigError, match="must hold a mapping of sections, got list"):
        validate_files([path], tmp_path)


def test_prune_accepts_find_patterns_and_an_empty_list():
    patterns = ["pandas/tests", "scipy/*/tests", "*.pyx", "a_b/c-d+e/f?.txt"]
    assert parse_config({"packaging": {"prune": patterns}}).packaging.prune == patterns
    assert parse_config({"packaging": {"prune": []}}).packaging.prune == []


def test_the_shipped_file_is_written_from_the_models():
    """Its comments are the field descriptions: rewriting it from its own values changes nothing
    (`python -m kedro_mlops.config.reference yaml conf/base/mlops.yml` after a model change)."""
    shipped = REPO_DEFAULT.read_text()
    assert reference.render_yaml(parse_config(yaml.safe_load(shipped))) == shipped
    assert "# A metric the training run logs.\n    metric: roc_auc\n" in shipped


def test_every_field_has_a_description():
    assert reference.undescribed() == []


def test_a_field_without_a_description_is_found():
    class Bare(Section):
        documented: int = Field(1, description="Has one.")
        bare: int = 2

    assert reference.undescribed(Bare) == ["bare"]


def _all_keys(model=MlopsConfig, prefix=""):
    for name, field in model.model_fields.items():
        yield f"{prefix}{name}", field
        nested = section_model(field.annotation)
        if nested is not None:
            yield from _all_keys(
                nested, reference.child_prefix(f"{prefix}{name}", field.annotation)
            )


def test_the_reference_lists_every_key_with_its_default():
    page = reference.markdown()
    keys = list(_all_keys())
    assert len(keys) > 80
    for key, field in keys:
        row = next((line for line in page.splitlines() if line.startswith(f"| `{key}` |")), None)
        if key.count(".") == 0:  # a section: its own heading
            assert f"## `{key}`" in page
            continue
        assert row is not None, key
        if section_model(field.annotation) is None:
            default = (
                "required"
                if field.is_required()
                else reference.value_text(field.get_default(call_default_factory=True))
            )
            assert f"| `{default}` |" in row.replace("\\|", "|"), (key, row)


def test_reference_types_read_as_yaml_users_write_them():
    assert reference.type_name(Literal["fail", "warn"]) == "fail | warn"
    assert reference.type_name(str | None) == "str | null"
    assert reference.type_name(list[str]) == "list[str]"
    assert reference.type_name(dict[str, float]) == "dict[str, float]"
    assert reference.value_text("@daily") == "'@daily'"
    assert reference.value_text(None) == "null"
