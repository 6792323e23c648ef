"""Live evaluation: the challenger compared with the champion on the traffic a rollout logged
(``serving.rollout``), a promote / hold / rollback decision, and the registry moves."""

from __future__ import annotations

from kedro_mlops.rollout.analysis import HOLD, PROMOTE, ROLLBACK, Decision, Figures, decide
from kedro_mlops.rollout.project import (
    EXIT_CODES,
    RolloutError,
    RolloutReport,
    analyze_project,
    promote_challenger,
    rollback_challenger,
    write_env,
)

__all__ = [
    "EXIT_CODES",
    "HOLD",
    "PROMOTE",
    "ROLLBACK",
    "Decision",
    "Figures",
    "RolloutError",
    "RolloutReport",
    "analyze_project",
    "decide",
    "promote_challenger",
    "rollback_challenger",
    "write_env",
]
