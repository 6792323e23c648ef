from __future__ import annotations

import re

import pytest
import yaml

from kedro_mlops.cicd import (
    GATE_VARIABLE,
    PROVIDERS,
    CiError,
    CiProject,
    merge_readme,
    providers_for,
    readme_paragraphs,
    readme_section,
    render_files,
    report_lines,
    validation_nodes,
    write_files,
)

PROJECT = CiProject(
    project_name="Churn Demo",
    python_version="3.11",
    smoke_image="churn-demo-serve",
    workdir="/app",
    context_dir="dist/mlops",
    validate_pipeline="data_engineering",
    validate_nodes=("validate_raw_data",),
    monitor_checks=("production_batch", "weekly"),
)
GITHUB = ".github/workflows/mlops.yml"
GITLAB = (".gitlab-ci.yml", ".gitlab/cd.yml")
MAKE = re.compile(r"^make ([a-z-]+)")


@pytest.mark.parametrize(
    ("choice", "providers"),
    [
        ("both", ("github", "gitlab")),
        ("github", ("github",)),
        ("GitLab", ("gitlab",)),
        (" none ", ()),
        ("azure-devops", ("azure-devops",)),
        ("cloudbuild", ("cloudbuild",)),
    ],
)
def test_providers_for(choice, providers):
    assert providers_for(choice) == providers


def test_unknown_choice_is_refused():
    with pytest.raises(CiError) as error:
        providers_for("jenkins")
    assert error.value.exit_code == 2
    assert error.value.message == (
        "Unknown CI provider choice 'jenkins': use one of both, github, gitlab, azure-devops, "
        "cloudbuild, none (default: both)."
    )


@pytest.mark.parametrize(
    ("providers", "files"),
    [
        (("github", "gitlab"), {"Makefile", GITHUB, *GITLAB}),
        (("github",), {"Makefile", GITHUB}),
        (("gitlab",), {"Makefile", *GITLAB}),
        ((), {"Makefile"}),
    ],
)
def test_files_of_each_choice(providers, files):
    assert set(render_files(PROJECT, providers)) == files


def test_unknown_provider_is_refused():
    with pytest.raises(CiError, match=r"Unknown CI provider\(s\) \['jenkins'\]"):
        render_files(PROJECT, ["jenkins"])


def test_makefile_holds_the_project_facts():
    makefile = render_files(PROJECT, ())["Makefile"]
    for line in (
        "VALIDATE_NODES ?= validate_raw_data",
        "VALIDATE_PIPELINE ?= data_engineering",
        "MONITOR_CHECKS ?= production_batch weekly",
        "CONTEXT_DIR ?= dist/mlops",
        "SMOKE_IMAGE ?= churn-demo-serve:$(TAG)",
    ):
        assert f"\n{line}\n" in makefile
    assert "\t$(KEDRO) mlops smoke --image $(SMOKE_IMAGE) --container $(CONTAINER)\n" in makefile
    assert "[[" not in makefile
    assert "[%" not in makefile


def test_makefile_says_what_to_set_when_the_project_lacks_a_fact():
    bare = CiProject(project_name="Bare", python_version="3.12", smoke_image=None, workdir="/app")
    makefile = render_files(bare, ())["Makefile"]
    assert "(none found: set them)\nVALIDATE_NODES ?= \n" in makefile
    assert "(no `serve` in packaging.pipelines: set one)\nSMOKE_IMAGE ?= \n" in makefile
    assert "(none configured)\nMONITOR_CHECKS ?= \n" in makefile


def _jobs_commands(files: dict[str, str]) -> dict[str, list[tuple[str, ...]]]:
    """Per provider, the make targets each job runs, in order (steps / before_script + script)."""
    github = yaml.safe_load(files[GITHUB])
    per_provider: dict[str, list[tuple[str, ...]]] = {"github": [], "gitlab": []}
    for job in github["jobs"].values():
        runs = [step["run"] for step in job["steps"] if "run" in step]
        per_provider["github"].append(tuple(MAKE.match(run).group(1) for run in runs))
    for name in GITLAB:
        data = yaml.safe_load(files[name])
        default = data.get("default", {}).get("before_script", [])
        for key, job in data.items():
            if not isinstance(job, dict) or "script" not in job or key.startswith("."):
                continue
            lines = [*job.get("before_script", default), *job["script"]]
            targets = tuple(MAKE.match(line).group(1) for line in lines if MAKE.match(line))
            if targets:
                per_provider["gitlab"].append(targets)
    return per_provider


def test_github_and_gitlab_jobs_call_the_same_commands():
    files = render_files(PROJECT, ("github", "gitlab"))
    commands = _jobs_commands(files)
    assert sorted(commands["github"]) == sorted(commands["gitlab"])
    assert sorted(commands["github"]) == [
        ("install", "ci"),
        ("install", "deploy"),
        ("install", "deploy"),
        ("install", "registry-login", "push", "smoke"),
        ("install", "train", "gate", "monitor"),
    ]
    # each of them is a target of the Makefile
    targets = set(re.findall(r"^([a-z-]+):", files["Makefile"], re.M))
    assert {target for job in commands["github"] for target in job} <= targets


def test_jobs_run_make_targets_and_nothing_else():
    files = render_files(PROJECT, ("github", "gitlab"))
    github = yaml.safe_load(files[GITHUB])
    runs = [
        step["run"] for job in github["jobs"].values() for step in job["steps"] if "run" in step
    ]
    assert runs and all(MAKE.match(run) and "\n" not in run for run in runs)
    lines = []
    for name in GITLAB:
        for key, job in yaml.safe_load(files[name]).items():
            if isinstance(job, dict) and key != "default":
                lines += [*job.get("before_script", []), *job.get("script", [])]
    not_make = [line for line in lines if not MAKE.match(line)]
    assert len(not_make) == 1 and not_make[0].startswith("echo "), not_make  # no-new-champion


def test_cd_runs_only_for_a_new_champion():
    files = render_files(PROJECT, ("github", "gitlab"))
    github = yaml.safe_load(files[GITHUB])
    assert github["jobs"]["ct"]["outputs"]["decision"] == (
        f"${{{{ steps.gate.outputs.{GATE_VARIABLE} }}}}"
    )
    assert github["jobs"]["cd"]["if"] == "needs.ct.outputs.decision == 'champion'"
    # staging, then production: each in its environment (the approvals), with its KUBECONFIG
    assert github["jobs"]["deploy-staging"]["needs"] == "cd"
    assert github["jobs"]["deploy-production"]["needs"] == "deploy-staging"
    for environment in ("staging", "production"):
        job = github["jobs"][f"deploy-{environment}"]
        assert job["environment"] == environment
        assert job["env"]["ENV"] == environment
        assert job["env"]["KUBECONFIG_DATA"] == "${{ secrets.KUBECONFIG }}"
    child = yaml.safe_load(files[".gitlab/cd.yml"])
    assert child["images"]["rules"] == [{"if": f'${GATE_VARIABLE} == "champion"'}]
    assert child["no-new-champion"]["rules"] == [{"if": f'${GATE_VARIABLE} != "champion"'}]
    assert child["deploy-staging"]["needs"] == ["images"]
    assert child["deploy-production"]["needs"] == ["deploy-staging"]
    for environment in ("staging", "production"):
        job = child[f"deploy-{environment}"]
        assert job["rules"] == [{"if": f'${GATE_VARIABLE} == "champion"', "when": "manual"}]
        assert job["environment"] == {"name": environment}
        assert job["variables"]["ENV"] == environment
    parent = yaml.safe_load(files[".gitlab-ci.yml"])
    assert parent["deliver"]["trigger"]["include"] == [
        {"artifact": "build/ci/gate.yml", "job": "train"},
        {"local": ".gitlab/cd.yml"},
    ]
    assert parent["train"]["artifacts"]["reports"]["dotenv"] == "build/ci/gate.env"


def test_readme_section_names_the_secrets_of_each_provider():
    both = readme_section(PROJECT, ("github", "gitlab"))
    assert both.lstrip().startswith("## CI > CT > CD\n")
    assert "**GitHub Actions**" in both and "**GitLab CI**" in both
    assert both.count("MLFLOW_TRACKING_URI") >= 2
    github = readme_section(PROJECT, ("github",))
    assert "**GitLab CI**" not in github and "gitlab-ci-local" not in github


def test_write_files_refuses_to_replace_unless_forced(tmp_path):
    files = render_files(PROJECT, ("gitlab",))
    (tmp_path / ".gitlab-ci.yml").write_text("mine\n")
    with pytest.raises(CiError) as error:
        write_files(tmp_path, files)
    assert error.value.message == (
        f".gitlab-ci.yml already exist(s) in {tmp_path}; nothing was written. Move them away, "
        "or re-run with --force to replace them."
    )
    assert not (tmp_path / "Makefile").exists()
    report = write_files(tmp_path, files, force=True)
    assert report.written == ["Makefile", ".gitlab-ci.yml", ".gitlab/cd.yml"]
    assert (tmp_path / ".gitlab-ci.yml").read_text() == files[".gitlab-ci.yml"]


def test_our_makefile_and_readme_section_are_kept_a_foreign_makefile_is_not(tmp_path):
    section = readme_section(PROJECT, ("github",))
    (tmp_path / "README.md").write_text("# Churn\n\nMine.\n")
    first = write_files(tmp_path, render_files(PROJECT, ("github",)), readme=section)
    assert first.written == ["Makefile", GITHUB, "README.md"]
    readme = (tmp_path / "README.md").read_text()
    assert readme.startswith("# Churn\n\nMine.\n\n## CI > CT > CD\n")
    second = write_files(tmp_path, render_files(PROJECT, ("gitlab",)), readme=section)
    assert second.written == list(GITLAB)
    assert second.kept == ["Makefile", "README.md"]
    assert (tmp_path / "README.md").read_text() == readme

    other = tmp_path / "other"
    other.mkdir()
    (other / "Makefile").write_text("all:\n\ttrue\n")
    with pytest.raises(CiError, match="Makefile already exist"):
        write_files(other, render_files(PROJECT, ()))


@pytest.mark.parametrize(
    ("pipelines", "expected"),
    [
        (
            {"de": ["load", "validate_raw", "validate_ranges"], "ds": ["validate_model"]},
            ("de", ("validate_raw", "validate_ranges")),
        ),
        ({"de": ["clean"], "ds": ["validate_model"]}, ("ds", ("validate_model",))),
        ({"de": ["clean", "check_raw"]}, ("", ())),
        ({}, ("", ())),
    ],
)
def test_validation_nodes(pipelines, expected):
    assert validation_nodes(pipelines) == expected


def test_a_project_without_readme_gets_one(tmp_path):
    write_files(tmp_path, {}, readme=readme_section(PROJECT, ()))
    assert (tmp_path / "README.md").read_text().startswith("## CI > CT > CD\n")


def test_a_provider_added_later_gets_its_readme_paragraph(tmp_path):
    """`kedro mlops ci --provider azure-devops` in a project whose README describes GitHub Actions
    only: the Azure Pipelines paragraph goes in beside GitHub's, the rest stays as it was."""
    (tmp_path / "README.md").write_text("# Churn\n")
    write_files(
        tmp_path, render_files(PROJECT, ("github",)), readme=readme_section(PROJECT, ("github",))
    )
    providers = ("azure-devops", "cloudbuild")
    paragraphs = readme_paragraphs(PROJECT, providers)
    report = write_files(
        tmp_path,
        render_files(PROJECT, providers),
        readme=readme_section(PROJECT, providers),
        paragraphs=paragraphs,
    )
    assert (report.kept, report.readme_added) == (["Makefile"], ["Azure Pipelines", "Cloud Build"])
    assert report_lines(PROJECT, report)[-2] == (
        "Added to README.md: the Azure Pipelines and Cloud Build paragraphs"
    )
    after = (tmp_path / "README.md").read_text()
    # the section as if all three had been chosen at first; the rest of the README untouched
    assert after == "# Churn\n" + readme_section(PROJECT, ("github", *providers))
    again = write_files(
        tmp_path, {}, readme=readme_section(PROJECT, providers), paragraphs=paragraphs
    )
    assert (again.kept, again.readme_added) == (["README.md"], [])
    assert (tmp_path / "README.md").read_text() == after


@pytest.mark.parametrize(
    ("current", "expected", "added"),
    [
        ("", "SECTION\n", ["## CI > CT > CD"]),
        ("# Churn\n", "# Churn\nSECTION\n", ["## CI > CT > CD"]),
        # an edited section: the paragraph goes at its end, before the next heading
        (
            "## CI > CT > CD\n\nOurs.\n\n## License\n",
            "## CI > CT > CD\n\nOurs.\n\n**Cloud Build** (x).\n\n## License\n",
            ["Cloud Build"],
        ),
        (
            "## CI > CT > CD\n\nOurs.",
            "## CI > CT > CD\n\nOurs.\n\n**Cloud Build** (x).\n",
            ["Cloud Build"],
        ),
        (
            "## CI > CT > CD\n\n**Cloud Build** (ours).\n",
            "## CI > CT > CD\n\n**Cloud Build** (ours).\n",
            [],
        ),
    ],
)
def test_merge_readme(current, expected, added):
    paragraphs = {"Cloud Build": "**Cloud Build** (x).\n"}
    assert merge_readme(current, "SECTION\n", paragraphs) == (expected, added)


@pytest.mark.parametrize("providers", [("gitlab",), ("cloudbuild", "github"), PROVIDERS])
def test_paragraphs_added_later_make_the_section_a_first_choice_writes(providers):
    """A section for github, then the paragraphs of ``providers`` (any order): the section
    written for all of them at once, the gitlab-ci-local note included with GitLab."""
    chosen = ("github", *providers)
    merged, _added = merge_readme(
        readme_section(PROJECT, ("github",)), "", readme_paragraphs(PROJECT, providers)
    )
    assert merged == readme_section(PROJECT, chosen)
    assert ("gitlab-ci-local" in merged) == ("gitlab" in chosen)


def test_merge_readme_looks_for_a_paragraph_in_the_section_only():
    current = "## CI > CT > CD\n\nOurs.\n\n# Notes\n\n**Cloud Build** elsewhere.\n"
    merged, added = merge_readme(current, "", {"Cloud Build": "**Cloud Build** (x).\n"})
    assert added == ["Cloud Build"]
    assert merged == (
        "## CI > CT > CD\n\nOurs.\n\n**Cloud Build** (x).\n\n"
        "# Notes\n\n**Cloud Build** elsewhere.\n"
    )
