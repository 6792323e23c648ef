"""Model registry: register a run's model, gate it against the champion, move aliases by hand."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from kedro_mlops import mlflow_run
from kedro_mlops.errors import InputError
from kedro_mlops.names import CHALLENGER, CHAMPION, MODEL_TAG, VERSION_TAG

if TYPE_CHECKING:
    from mlflow.entities.model_registry import ModelVersion
    from mlflow.tracking import MlflowClient

    from kedro_mlops.config import GateConfig, RegistryConfig

GATE_TAG = "mlops.gate"
DECISION_TAG = f"{GATE_TAG}.decision"
REASON_TAG = f"{GATE_TAG}.reason"
# on a version: why a human gave it an alias (``kedro mlops promote``)
PROMOTION_TAG = "mlops.promotion"
# on the registered model: the champion holds by a human decision; the gate only adds challengers
LOCK_TAG = "mlops.champion.locked"


class RegistryError(InputError):
    """A registry operation could not be done (unknown model, version or alias)."""


def registered_model_name(registry: RegistryConfig, package_name: str) -> str:
    """The registered model of a project (the gate, ``models``, ``promote``, serving):
    ``registry.model_name``, else the project's Python package."""
    return registry.model_name or package_name


@dataclass(frozen=True)
class GateDecision:
    """The outcome of comparing a new version (challenger) with the champion."""

    model_name: str
    version: str
    alias: str
    metric: str
    challenger_value: float | None
    champion_version: str | None
    champion_value: float | None
    reason: str
    replaced_manual: str | None = None  # the hand-promoted champion version this one replaced

    def tags(self) -> dict[str, str]:
        """Tags recording the decision on the run and on the model version."""
        return {
            DECISION_TAG: self.alias,
            f"{GATE_TAG}.metric": self.metric,
            f"{GATE_TAG}.challenger_value": _fmt(self.challenger_value),
            f"{GATE_TAG}.champion_value": _fmt(self.champion_value),
            f"{GATE_TAG}.champion_version": self.champion_version or "",
            REASON_TAG: self.reason,
            MODEL_TAG: self.model_name,
            **({VERSION_TAG: self.version} if self.version else {}),
            **({f"{GATE_TAG}.replaced": self.replaced_note()} if self.replaced_manual else {}),
        }

    def replaced_note(self) -> str:
        return f"replaced a manually promoted champion v{self.replaced_manual}"

    def summary(self) -> str:
        line = f"{self.model_name} v{self.version} -> {self.alias}: {self.reason}"
        return f"{line}; {self.replaced_note()}" if self.replaced_manual else line


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def decide(
    metric: str,
    direction: str,
    min_improvement: float,
    challenger: float | None,
    champion: float | None,
) -> tuple[bool, str]:
    """Whether the challenger becomes champion, and why. Pure."""
    if challenger is None or math.isnan(challenger):
        return False, f"the run did not log {metric!r}: cannot be compared"
    if champion is None or math.isnan(champion):
        return True, f"no champion to beat ({metric} = {challenger:.4g})"
    gain = challenger - champion if direction == "maximize" else champion - challenger
    verb = "higher" if direction == "maximize" else "lower"
    if gain > min_improvement:
        return True, (
            f"{metric} {challenger:.4g} vs champion {champion:.4g}: {gain:+.4g} better "
            f"({verb} is better, min improvement {min_improvement:g})"
        )
    return False, (
        f"{metric} {challenger:.4g} vs champion {champion:.4g}: not better by more than "
        f"{min_improvement:g} ({verb} is better)"
    )


def champion_version(client: MlflowClient, name: str, alias: str = CHAMPION) -> ModelVersion | None:
    """The version holding ``alias``, or ``None``."""
    from mlflow.exceptions import MlflowException  # noqa: PLC0415

    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def run_metric(client: MlflowClient, run_id: str | None, metric: str) -> float | None:
    if not run_id:
        return None
    return client.get_run(run_id).data.metrics.get(metric)


def register_and_gate(
    client: MlflowClient, model_uri: str, run_id: str, name: str, gate: GateConfig
) -> GateDecision:
    """Register ``model_uri`` as a new version of ``name`` and give it ``champion`` or
    ``challenger``; the decision is tagged on the run and on the version."""
    _ensure_registered_model(client, name)
    current = champion_version(client, name)
    champion_value = run_metric(client, current.run_id, gate.metric) if current else None
    challenger_value = run_metric(client, run_id, gate.metric)
    promote, reason = decide(
        gate.metric, gate.direction, gate.min_improvement, challenger_value, champion_value
    )
    lock = champion_lock(client, name) if current else None
    if lock is not None:
        promote = False
        reason = (
            f"the champion v{current.version} is locked by hand ({lock}): `kedro mlops promote "  # type: ignore[union-attr]
            f"--unlock` lets the gate decide again; {reason}"
        )
    manual = current is not None and f"{PROMOTION_TAG}.{CHAMPION}" in (current.tags or {})
    decision = GateDecision(
        model_name=name,
        version="",
        alias=CHAMPION if promote else CHALLENGER,
        metric=gate.metric,
        challenger_value=challenger_value,
        champion_version=str(current.version) if current else None,
        champion_value=champion_value,
        reason=reason,
        replaced_manual=str(current.version) if promote and manual else None,  # type: ignore[union-attr]
    )
    model_id = model_uri.removeprefix("models:/") if model_uri.startswith("models:/m-") else None
    # a REST server needs the logged model's id beside a models:/ source
    created = client.create_model_version(
        name, model_uri, run_id=run_id, tags=decision.tags(), model_id=model_id
    )
    decision = replace(decision, version=str(created.version))
    client.set_registered_model_alias(name, decision.alias, decision.version)
    mlflow_run.log_batch(run_id, tags=decision.tags(), client=client)
    return decision


def _ensure_registered_model(client: MlflowClient, name: str) -> None:
    from mlflow.exceptions import MlflowException  # noqa: PLC0415

    try:
        client.get_registered_model(name)
    except MlflowException:
        client.create_registered_model(name)


@dataclass(frozen=True)
class VersionRow:
    """One line of ``kedro mlops models``."""

    version: str
    aliases: list[str]
    metric_value: float | None
    run_id: str
    created: int


def list_versions(client: MlflowClient, name: str, metric: str) -> list[VersionRow]:
    """All versions of ``name``, newest first, with their aliases and gate metric."""
    from mlflow.exceptions import MlflowException  # noqa: PLC0415

    try:
        model = client.get_registered_model(name)
    except MlflowException as exc:
        raise RegistryError(
            f"No registered model {name!r} at {client.tracking_uri}: a training run "
            "(`kedro run` or `kedro run --pipeline data_science`) registers it."
        ) from exc
    aliases: dict[str, list[str]] = {}
    for alias, version in (model.aliases or {}).items():
        aliases.setdefault(str(version), []).append(alias)
    rows = [
        VersionRow(
            version=str(version.version),
            aliases=sorted(aliases.get(str(version.version), [])),
            metric_value=run_metric(client, version.run_id, metric),
            run_id=version.run_id or "",
            created=version.creation_timestamp,
        )
        for version in client.search_model_versions(f"name = '{name}'")
    ]
    return sorted(rows, key=lambda row: int(row.version), reverse=True)


def promote(client: MlflowClient, name: str, version: str, alias: str, reason: str) -> str | None:
    """Move ``alias`` to ``version`` by hand; returns the version that held it before."""
    _version(client, name, version)
    previous = champion_version(client, name, alias)
    client.set_registered_model_alias(name, alias, version)
    challenger = champion_version(client, name, CHALLENGER)
    if alias == CHAMPION and challenger is not None and str(challenger.version) == str(version):
        client.delete_registered_model_alias(name, CHALLENGER)
    client.set_model_version_tag(name, version, f"{PROMOTION_TAG}.{alias}", reason)
    return str(previous.version) if previous else None


def _version(client: MlflowClient, name: str, version: str) -> ModelVersion:
    from mlflow.exceptions import MlflowException  # noqa: PLC0415

    try:
        return client.get_model_version(name, version)
    except MlflowException as exc:
        raise RegistryError(
            f"Model {name!r} has no version {version!r} at {client.tracking_uri}; "
            "`kedro mlops models` lists the versions."
        ) from exc


def champion_lock(client: MlflowClient, name: str) -> str | None:
    """Why the champion is locked by hand, or ``None`` when the gate may move it."""
    from mlflow.exceptions import MlflowException  # noqa: PLC0415

    try:
        return (client.get_registered_model(name).tags or {}).get(LOCK_TAG)
    except MlflowException:
        return None


def lock_champion(client: MlflowClient, name: str, reason: str) -> str:
    """Keep the current champion until :func:`unlock_champion`: training runs still register
    and gate their models, as challengers only. Returns the champion's version."""
    current = champion_version(client, name)
    if current is None:
        raise RegistryError(
            f"Model {name!r} has no champion to lock; promote one first (`kedro mlops promote "
            "--version N --lock`)."
        )
    client.set_registered_model_tag(name, LOCK_TAG, f"v{current.version}: {reason}")
    return str(current.version)


def unlock_champion(client: MlflowClient, name: str) -> bool:
    """Let the gate move the champion again; whether it was locked."""
    if champion_lock(client, name) is None:
        return False
    client.delete_registered_model_tag(name, LOCK_TAG)
    return True
