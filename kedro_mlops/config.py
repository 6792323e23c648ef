"""The models of ``conf/<env>/mlops.yml``: validation only, no side effects.

Unknown keys are rejected (``extra="forbid"``) so a typo never silently falls back to a default.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from kedro_mlops.errors import ConfigError

# in packaging.pipelines: the online-serving image (the REST API with the model inside), not a
# Kedro pipeline
SERVE_IMAGE = "serve"
SERVE_PORT = 8080  # the port the serving image listens on
# a dataset drifts when at least this share of its columns drift (every check, `kedro mlops
# monitor` on files too, unless `drift_share` / --drift-share says otherwise)
DEFAULT_DRIFT_SHARE = 0.2
# the image every packaged image starts from (`packaging.base_image`, --base-image)
DEFAULT_BASE_IMAGE = "python:3.11-slim"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LineageConfig(_Section):
    """What the tracking hook records on every run, each switchable."""

    git: bool = True
    environment: bool = True
    node_timings: bool = True
    datasets: bool = True
    config: bool = True


class TrackingConfig(_Section):
    """Where runs are recorded and what is recorded.

    ``uri`` is used when ``MLFLOW_TRACKING_URI`` is not set in the environment; a relative
    ``sqlite:///`` path is resolved from the project root, whatever the current directory.
    """

    uri: str = "sqlite:///mlflow.db"
    on_error: Literal["fail", "warn"] = "fail"
    server_timeout_s: float = Field(default=5.0, gt=0, le=60)
    lineage: LineageConfig = LineageConfig()

    @field_validator("uri")
    @classmethod
    def _not_a_file_store(cls, value: str) -> str:
        if "://" not in value and value not in ("databricks", "databricks-uc"):
            # MLflow >= 3.17 refuses file stores (./mlruns) unless MLFLOW_ALLOW_FILE_STORE is set
            raise ValueError(
                f"{value!r} is a plain path; MLflow needs a database or a server, "
                f"e.g. 'sqlite:///{value.rstrip('/') or 'mlflow'}.db' or 'http://host:5000'"
            )
        return value


class GateConfig(_Section):
    """How a new model version (challenger) is compared with the ``champion``."""

    metric: str = "roc_auc"
    direction: Literal["maximize", "minimize"] = "maximize"
    min_improvement: float = Field(default=0.0, ge=0)


class RegistryConfig(_Section):
    """Registration of the pipeline model logged by a training run."""

    enabled: bool = True
    model_name: str | None = None
    gate: GateConfig = GateConfig()


class ServingConfig(_Section):
    """Which model scores (batch ``kedro run --pipeline serving`` and ``kedro mlops serve``),
    and the REST server's options. CLI options override these keys."""

    model_uri: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    max_body_mb: float = Field(default=10.0, gt=0)
    max_rows: int = Field(default=10_000, ge=1)
    reload_interval_s: float = Field(default=30.0, ge=0)  # 0: never check the alias again
    batch_wait_ms: float = Field(default=2.0, ge=0, le=1000)  # micro-batching: wait for company
    log_predictions: bool = True  # append served rows + predictions to `log_dataset`
    log_dataset: str = "served_traffic"  # a PartitionedDataset of CSV files in the catalog
    prediction_column: str = "prediction"  # the output column counted by class in /metrics

    @field_validator("model_uri")
    @classmethod
    def _registry_or_run_uri(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("models:/", "runs:/")):
            raise ValueError(
                f"{value!r} is not a model URI; use e.g. 'models:/<name>@champion', "
                "'models:/<name>/3' or 'runs:/<run id>/model'"
            )
        return value


# Paths under site-packages removed from the images' venv after install: test suites shipped
# inside wheels, headers and Cython sources for building extensions, notebooks, and UI assets
# that pipelines never load (MLflow's web UI, JupyterLab's plotly extension). ``find -path``
# patterns: ``*`` also matches ``/``.
DEFAULT_PRUNE = (
    "numpy/tests",
    "numpy/*/tests",
    "pandas/tests",
    "scipy/*/tests",
    "sklearn/tests",
    "sklearn/*/tests",
    "statsmodels/tests",
    "statsmodels/*/tests",
    "pyarrow/tests",
    "matplotlib/tests",
    "pyarrow/include",
    "pyarrow/src",
    "*.pyx",
    "*.pxd",
    "*.ipynb",
    "jupyterlab_plotly",
    "mlflow/server/js",
)
_PRUNE_PATTERN = re.compile(r"^[A-Za-z0-9_.*?/+-]+$")


class PackagingConfig(_Section):
    """``kedro mlops package``: one container image per pipeline. CLI options override these."""

    pipelines: list[str] = Field(
        default_factory=lambda: ["data_engineering", "data_science", "serving", SERVE_IMAGE]
    )
    output: str = "dist/mlops"
    base_image: str = DEFAULT_BASE_IMAGE
    builder: Literal["auto", "docker", "podman", "buildah"] = "auto"
    tag: str | None = None
    template: str | None = None
    wheels: bool = False
    push: str | None = None
    bytecode: bool = False  # compile .pyc into the images: faster start, bigger images
    prune: list[str] = Field(default_factory=lambda: list(DEFAULT_PRUNE))
    # the serving image installs only what online inference needs: these distributions (and
    # what they require) plus `serve_requirements` (e.g. xgboost for a model that needs it)
    serve_requirements: list[str] = Field(default_factory=list)

    @field_validator("prune")
    @classmethod
    def _safe_patterns(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            segments = pattern.split("/")
            if (
                not _PRUNE_PATTERN.fullmatch(pattern)
                or pattern.startswith("/")
                or ".." in segments
                or not pattern.strip("*?/")
            ):
                raise ValueError(
                    f"{pattern!r} is not a path pattern under site-packages; use letters, "
                    "digits, _ . - + / and the wildcards * ?, e.g. 'pandas/tests' or '*.pyx'"
                )
        return patterns


class PredictionDriftConfig(_Section):
    """Prediction drift: the model's outputs on the current data against the same model's
    outputs on reference data (e.g. its predictions on the test split)."""

    dataset: str | None = None  # the current predictions; default: the check's current dataset
    reference: str | None = None  # the reference predictions; default: the check's reference
    column: str = "prediction"  # the predicted class
    reference_column: str | None = None  # its name in the reference; default: the same name
    probability: str | None = None  # a score column tested as a number (same name on both sides)
    model_column: str | None = None  # names the model that predicted: other models' rows skipped


class DriftCheckConfig(_Section):
    """One named drift check: ``current`` against ``reference`` (catalog dataset names)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    reference: str
    current: str
    columns: list[str] | None = None  # default: monitoring.features_from's feature lists
    categorical: list[str] = Field(default_factory=list)  # with `columns`: these are categorical
    prediction: PredictionDriftConfig | None = None
    target: str | None = None  # target drift, when both frames hold this column
    num_method: str | None = None  # Evidently stat-test names, e.g. ks, wasserstein, psi
    cat_method: str | None = None
    num_threshold: float | None = None
    cat_threshold: float | None = None
    methods: dict[str, str] = Field(default_factory=dict)  # per column
    thresholds: dict[str, float] = Field(default_factory=dict)  # per column
    drift_share: float = Field(default=DEFAULT_DRIFT_SHARE, gt=0, le=1)
    # the HTML page is for eyes: distributions from a random sample look the same and cost half;
    # the verdicts are always computed on all rows
    report_max_rows: int | None = Field(default=5_000, gt=0)
    on_drift: Literal["warn", "fail"] = "warn"


class MonitoringConfig(_Section):
    """Drift checks run by the monitoring hook as soon as their current dataset is produced."""

    enabled: bool = True
    output_dir: str = "data/08_reporting/drift"
    features_from: str = "dataset"  # parameters key with numeric_features / categorical_features
    html: bool = True
    min_rows: int = Field(default=10, ge=2)
    checks: list[DriftCheckConfig] = Field(default_factory=list)

    @field_validator("checks")
    @classmethod
    def _unique_names(cls, checks: list[DriftCheckConfig]) -> list[DriftCheckConfig]:
        names = [check.name for check in checks]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"check names must be unique, repeated: {duplicates}")
        return checks


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# names of variables that hold secrets: they come from the deployment (Airflow Connections or
# Variables, Kubernetes Secrets), never from mlops.yml, so the exported files hold no credential
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_?KEY")
_USERINFO = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/@\s]+@")
_QUANTITY = re.compile(r"^[0-9]+(?:\.[0-9]+)?(?:m|k|Ki|M|Mi|G|Gi|T|Ti)?$")
_DNS_NAME = re.compile(r"^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$")
_CRON_PRESETS = ("@once", "@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually")
_CRON_FIELD = re.compile(r"^[A-Za-z0-9*/,?-]+$")
_CRON_FIELDS = 5  # minute hour day-of-month month day-of-week


def check_schedule(value: str | None) -> str | None:
    """``value`` if it is a cron expression (5 fields) or a preset such as ``@daily``.

    Raises:
        ValueError: saying what a schedule looks like.
    """
    if value is None:
        return value
    fields = value.split()
    cron = len(fields) == _CRON_FIELDS and all(map(_CRON_FIELD.match, fields))
    if value in _CRON_PRESETS or cron:
        return value
    raise ValueError(
        f"{value!r} is not a schedule; use 5 cron fields (e.g. '0 3 * * *') or one of "
        f"{', '.join(_CRON_PRESETS)}"
    )


class ExportResources(_Section):
    """Resource requests (and a memory limit) of every step on Kubernetes and Kubeflow."""

    cpu: str | None = None  # request, e.g. "500m" or "2"
    memory: str | None = None  # request, e.g. "2Gi"
    memory_limit: str | None = None

    @field_validator("cpu", "memory", "memory_limit")
    @classmethod
    def _quantity(cls, value: str | None) -> str | None:
        if value is not None and not _QUANTITY.match(value):
            raise ValueError(
                f"{value!r} is not a Kubernetes quantity; use e.g. '500m', '2', '512Mi', '4Gi'"
            )
        return value


class ContinuousTrainingConfig(_Section):
    """``<project>_ct``: the drift check on the latest scored data; retraining on drift."""

    enabled: bool = True
    check: str | None = None  # a monitoring.checks name; null: the first check
    schedule: str | None = "@daily"

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        return check_schedule(value)


class AirflowExportConfig(_Section):
    """The operator of every task of the Airflow DAGs."""

    operator: Literal["docker", "kubernetes"] = "docker"


class KubernetesExportConfig(_Section):
    """Names of what the cluster provides (Airflow's KubernetesPodOperator and Kubeflow)."""

    namespace: str | None = None  # null: the orchestrator's default
    data_volume_claim: str | None = None  # null: <project>-data, mounted on the images' data/
    mlflow_volume_claim: str | None = None  # null: <project>-mlflow, for the SQLite store
    secret: str | None = None  # null: <project>-mlflow; its keys become environment variables

    @field_validator("namespace", "data_volume_claim", "mlflow_volume_claim", "secret")
    @classmethod
    def _dns_name(cls, value: str | None) -> str | None:
        if value is not None and not _DNS_NAME.match(value):
            raise ValueError(
                f"{value!r} is not a Kubernetes name; use lower-case letters, digits and '-' "
                "(at most 63, no '_'), e.g. 'churn-data'"
            )
        return value


class ExportConfig(_Section):
    """``kedro mlops export``: the packaged images as orchestrator definitions. CLI options
    override these keys."""

    target: Literal["airflow", "kubeflow"] = "airflow"
    output: str = "dist/orchestration"
    image_tag: str | None = None  # null: packaging.tag, else the project's version
    registry: str | None = None  # null: packaging.push
    schedule: str | None = None  # of <project> (every packaged pipeline); null: on demand
    template: str | None = None
    environment: dict[str, str] = Field(default_factory=dict)  # no secrets: see _SECRET_NAME
    resources: ExportResources = ExportResources()
    ct: ContinuousTrainingConfig = ContinuousTrainingConfig()
    airflow: AirflowExportConfig = AirflowExportConfig()
    kubernetes: KubernetesExportConfig = KubernetesExportConfig()

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        return check_schedule(value)

    @field_validator("environment")
    @classmethod
    def _no_secrets(cls, environment: dict[str, str]) -> dict[str, str]:
        for name, value in environment.items():
            if not _ENV_NAME.match(name):
                raise ValueError(f"{name!r} is not an environment variable name")
            if _SECRET_NAME.search(name.upper()) or _USERINFO.match(value):
                # its own error type: the message must not repeat the value
                raise PydanticCustomError(
                    "credential",
                    "'{name}' looks like a credential; the exported files never hold one: put "
                    "it in an Airflow Variable/Connection or a Kubernetes Secret (see the notes "
                    "`kedro mlops export` prints)",
                    {"name": name},
                )
        return environment


class MlopsConfig(_Section):
    """The whole ``mlops.yml``."""

    tracking: TrackingConfig = TrackingConfig()
    registry: RegistryConfig = RegistryConfig()
    serving: ServingConfig = ServingConfig()
    packaging: PackagingConfig = PackagingConfig()
    monitoring: MonitoringConfig = MonitoringConfig()
    export: ExportConfig = ExportConfig()


def parse_config(data: dict[str, Any] | None, source: str = "mlops.yml") -> MlopsConfig:
    """Validate raw ``mlops.yml`` content.

    Raises:
        ConfigError: naming ``source``, each offending key and what was expected.
    """
    try:
        return MlopsConfig.model_validate(data or {})
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None


def _describe(exc: ValidationError, source: str) -> str:
    lines = [f"Invalid kedro-mlops configuration in {source}:"]
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"])
        if err["type"] == "extra_forbidden":
            parent = _model_at(err["loc"][:-1])
            allowed = ", ".join(parent.model_fields) if parent else "?"
            lines.append(f"  - unknown key {key!r} (expected one of: {allowed})")
        elif err["type"] == "credential":
            lines.append(f"  - {key!r}: {err['msg']}")
        else:
            lines.append(f"  - {key!r}: {err['msg']} (got {err['input']!r})")
    return "\n".join(lines)


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] = MlopsConfig
    for part in loc:
        if isinstance(part, int):  # an item of a list field: its model is already selected
            continue
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field else None
        for candidate in (annotation, *get_args(annotation)):  # X, list[X], X | None
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                model = candidate
                break
        else:
            return None
    return model


def config_files(conf_root: Path, envs: list[str]) -> list[Path]:
    """The ``mlops*.yml`` files of ``envs`` under ``conf_root`` that exist, base first."""
    files: list[Path] = []
    for env in envs:
        files.extend(sorted((conf_root / env).glob("mlops*.y*ml")))
    return files


def validate_files(files: list[Path], root: Path) -> None:
    """Validate each file on its own so an error names the file that holds it."""
    for path in files:
        name = _relative(path, root)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(f"{name} is not valid YAML: {exc}") from None
        if data is not None and not isinstance(data, dict):
            raise ConfigError(f"{name} must hold a mapping of sections, got {type(data).__name__}")
        parse_config(data, name)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
