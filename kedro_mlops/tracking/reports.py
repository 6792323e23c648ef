"""What ``kedro mlops status | models | promote`` report: the runs and registry read or moved,
as lines to print (callable from Python without click)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kedro_mlops.tracking import registry
from kedro_mlops.tracking.runs import RunSummary, latest_run

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

    from kedro_mlops.config import GateConfig


@dataclass(frozen=True)
class StatusReport:
    """Where runs are tracked and the latest run."""

    tracking_uri: str
    experiment: str
    run: RunSummary | None

    def lines(self) -> list[str]:
        lines = [f"Tracking URI: {self.tracking_uri}", f"Experiment:   {self.experiment}"]
        run = self.run
        if run is None:
            return [*lines, "No run yet: `kedro run` records one."]
        lines.append(f"Latest run:   {run.run_id} ({run.run_name}, {run.status}, {run.started})")
        lines += [f"  {name:<20} {value:.4f}" for name, value in run.metrics.items()]
        lines += [f"Model URI:    {uri}" for uri in run.model_uris]
        return lines


def project_status(tracking_uri: str, experiment: str) -> StatusReport:
    """The latest run of ``experiment`` at ``tracking_uri``."""
    return StatusReport(tracking_uri, experiment, latest_run(tracking_uri, experiment))


@dataclass(frozen=True)
class ModelsReport:
    """The registered versions of a model with their aliases and gate metric."""

    name: str
    gate: GateConfig
    lock: str | None
    rows: tuple[registry.VersionRow, ...]

    def lines(self) -> list[str]:
        metric = self.gate.metric
        lines = [f"Registered model {self.name!r} (gate: {metric}, {self.gate.direction})"]
        if self.lock:
            lines.append(f"Champion locked by hand ({self.lock}): the gate adds challengers only.")
        lines.append(f"{'VERSION':<8} {'ALIASES':<22} {metric.upper():<10} RUN ID")
        for row in self.rows:
            value = "-" if row.metric_value is None else f"{row.metric_value:.4f}"
            aliases = ",".join(row.aliases) or "-"
            lines.append(f"{row.version:<8} {aliases:<22} {value:<10} {row.run_id}")
        return lines


def model_versions(client: MlflowClient, name: str, gate: GateConfig) -> ModelsReport:
    """The versions of ``name``, newest first.

    Raises:
        RegistryError: when the model is not registered.
    """
    rows = registry.list_versions(client, name, gate.metric)
    return ModelsReport(name, gate, registry.champion_lock(client, name), tuple(rows))


@dataclass(frozen=True)
class PromoteReport:
    """What a promotion by hand did, in order."""

    done: tuple[str, ...]

    def lines(self) -> list[str]:
        return list(self.done)


def promote_by_hand(
    client: MlflowClient,
    name: str,
    *,
    version: str | None,
    alias: str,
    reason: str,
    lock: bool = False,
    unlock: bool = False,
) -> PromoteReport:
    """Unlock the champion, move ``alias`` to ``version``, lock the champion: whichever is asked,
    in that order."""
    done = []
    if unlock:
        was = registry.unlock_champion(client, name)
        done.append(f"{name}@{alias}: unlocked" if was else f"{name}@{alias} was not locked")
    if version is not None:
        previous = registry.promote(client, name, version, alias, reason)
        moved_from = f" (was version {previous})" if previous else ""
        done.append(f"{name}@{alias} -> version {version}{moved_from}. Reason: {reason}")
    if lock:
        held = registry.lock_champion(client, name, reason)
        done.append(
            f"{name}@{alias} locked at version {held}: training runs register challengers only "
            "until `kedro mlops promote --unlock`."
        )
    return PromoteReport(tuple(done))
