from __future__ import annotations

import pytest
import yaml

from kedro_mlops.cicd import CiError, env_line, gitlab_include, write_outputs


@pytest.mark.parametrize("decision", ["champion", "challenger", "none"])
def test_outputs_of_a_decision(decision):
    assert env_line(decision) == f"GATE_DECISION={decision}\n"
    assert yaml.safe_load(gitlab_include(decision)) == {"variables": {"GATE_DECISION": decision}}


@pytest.mark.parametrize("decision", ["", "Champion", "champion\nrm -rf", "a b", "x: y"])
def test_anything_else_is_refused(decision):
    with pytest.raises(CiError, match="Not a gate decision"):
        env_line(decision)


def test_env_file_is_appended_to_like_github_output(tmp_path):
    output = tmp_path / "github_output"
    output.write_text("other=1\n")
    include = tmp_path / "ci" / "gate.yml"
    written = write_outputs("champion", env_file=output, yaml_file=include)
    assert written == [output, include]
    assert output.read_text() == "other=1\nGATE_DECISION=champion\n"
    assert include.read_text() == "variables:\n  GATE_DECISION: champion\n"
    assert write_outputs("none") == []
