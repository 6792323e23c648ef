"""``kedro mlops monitor``: a configured check on catalog datasets, or two files."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kedro_mlops.monitoring.check import CheckResult, run_check, write_outputs
from kedro_mlops.monitoring.columns import CheckInputError, infer_kinds
from kedro_mlops.monitoring.drift import Methods
from kedro_mlops.monitoring.files import read_table
from kedro_mlops.monitoring.plan import check_datasets
from kedro_mlops.monitoring.report import HtmlInputs
from kedro_mlops.monitoring.runner import run_configured

if TYPE_CHECKING:
    from pathlib import Path

    from kedro.framework.context import KedroContext

    from kedro_mlops.config import MlopsConfig, MonitoringConfig


def run_named(
    context: KedroContext,
    config: MlopsConfig,
    name: str,
    *,
    stamp: str,
    output: Path | None,
    html: bool,
) -> tuple[CheckResult, dict[str, Path], str]:
    """Run check ``name`` of ``mlops.yml`` on its catalog datasets as they are on disk now."""
    monitoring = config.monitoring
    checks = {check.name: check for check in monitoring.checks}
    if name not in checks:
        raise CheckInputError(
            f"no check {name!r} in monitoring.checks of mlops.yml; configured: {sorted(checks)}"
        )
    check = checks[name]
    catalog = context.catalog
    frames = {
        role: load_dataset(catalog, dataset) for role, dataset in check_datasets(check).items()
    }
    features = context.params.get(monitoring.features_from)
    directory = output or context.project_path / monitoring.output_dir / name / stamp
    result, paths = run_configured(
        check,
        frames,
        features=features if isinstance(features, dict) else None,
        directory=directory,
        html=html,
        min_rows=monitoring.min_rows,
    )
    return result, paths, check.on_drift


def load_dataset(catalog: Any, dataset: str) -> Any:  # noqa: ANN401 - whatever the catalog holds
    if dataset not in catalog:
        raise CheckInputError(f"dataset {dataset!r} is not in the catalog")
    try:
        data = catalog.load(dataset)
        if isinstance(data, dict) and data and all(callable(part) for part in data.values()):
            return _concat_partitions(data)
    except Exception as exc:  # any loading failure is reported the same way
        raise CheckInputError(
            f"dataset {dataset!r} cannot be loaded ({exc}); a `kedro run` of the pipeline "
            "that produces it writes it (served_traffic: `kedro mlops serve` logs it)"
        ) from None
    return data


def catalog_features(catalog: Any, features_from: str) -> dict[str, Any] | None:  # noqa: ANN401
    """The feature lists parameter (``monitoring.features_from``) of a run's catalog, if any."""
    name = f"params:{features_from}"
    if catalog is None or name not in catalog:
        return None
    value = catalog.get(name).load()
    return value if isinstance(value, dict) else None


def _concat_partitions(partitions: dict[str, Any]) -> Any:  # noqa: ANN401 - a DataFrame
    """A ``PartitionedDataset``'s partitions as one frame, in partition order."""
    import pandas as pd  # noqa: PLC0415

    return pd.concat([partitions[key]() for key in sorted(partitions)], ignore_index=True)


def run_files(
    reference_path: Path,
    current_path: Path,
    monitoring: MonitoringConfig,
    *,
    name: str,
    columns: list[str],
    categorical: list[str],
    drift_share: float,
    max_rows: int | None,
    directory: Path,
    html: bool,
) -> tuple[CheckResult, dict[str, Path]]:
    """Compare two CSV/Parquet files: the given columns (each must be in both files), or every
    column the two files share (the others are listed as not tested)."""
    reference, current = read_table(reference_path), read_table(current_path)
    shared = [column for column in reference.columns if column in current.columns]
    tested = list(columns) or [column for column in shared if column not in categorical]
    tested += [column for column in categorical if column not in tested]
    kinds = infer_kinds(reference, tested, categorical)
    result = run_check(
        name,
        reference,
        current,
        kinds,
        drift_share=drift_share,
        min_rows=monitoring.min_rows,
        explicit=frozenset(columns) | frozenset(categorical),
        names=(str(reference_path), str(current_path)),
    )
    if not columns:
        for column, path, other in (
            *((c, reference_path, current) for c in reference.columns),
            *((c, current_path, reference) for c in current.columns),
        ):
            if column not in other.columns:
                result.skipped[str(column)] = f"only in {path}"
    inputs = HtmlInputs(reference, current, kinds, Methods(), max_rows)
    return result, write_outputs(result, directory, html_inputs=inputs if html else None)
