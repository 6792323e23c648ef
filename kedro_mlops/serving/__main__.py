"""``python -m kedro_mlops.serving --bundle DIR``: serve a saved model (the serving image's CMD).

Needs neither MLflow nor a Kedro project: the bundle holds the inference pipeline and its fitted
values, and the project package is importable.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from kedro_mlops.config.rollout import ROLLOUT_MODES
from kedro_mlops.config.serving import (
    ENV_CHALLENGER,
    ENV_FEEDBACK_DIR,
    ENV_FRACTION,
    ENV_LOG_DIR,
    ENV_MAX_BODY_MB,
    ENV_MAX_ROWS,
    ENV_ROLLOUT,
    ENV_SCORE_COLUMN,
    ENV_SEED,
)
from kedro_mlops.serving.model import load_bundle
from kedro_mlops.serving.rollout import RolloutSettings
from kedro_mlops.serving.server import DEFAULTS, ServeError, ServeSettings, build_app, serve

ROLLOUT = DEFAULTS.rollout


def _from_env(name: str, kind: type[float] | type[int], default: float) -> float:
    """A number from the environment, else ``default``; a value that is no number ends the
    program with one line naming the variable (exit 2)."""
    text = os.environ.get(name)
    if text is None:
        return default
    try:
        return kind(text)
    except ValueError:
        what = "an integer" if kind is int else "a number"
        print(f"Error: {name}={text!r} is not {what}", file=sys.stderr)  # noqa: T201
        raise SystemExit(2) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kedro_mlops.serving", description=__doc__)
    parser.add_argument("--bundle", type=Path, required=True, help="the saved model directory")
    parser.add_argument("--host", default=DEFAULTS.host)
    parser.add_argument("--port", type=int, default=DEFAULTS.port)
    parser.add_argument("--workers", type=int, default=DEFAULTS.workers)
    # a deployment sets these through the environment (kedro mlops deploy's ConfigMap)
    parser.add_argument(
        "--max-body-mb",
        type=float,
        default=_from_env(ENV_MAX_BODY_MB, float, DEFAULTS.max_body_mb),
        help=f"larger request bodies: 413 [${ENV_MAX_BODY_MB}; %(default)s]",
    )
    parser.add_argument(
        "--max-rows",
        type=int,
        default=_from_env(ENV_MAX_ROWS, int, DEFAULTS.max_rows),
        help=f"more rows in one request: 413 [${ENV_MAX_ROWS}; %(default)s]",
    )
    parser.add_argument(
        "--log-dir",
        default=os.environ.get(ENV_LOG_DIR),
        help=f"append served rows here as CSV files [${ENV_LOG_DIR}; none]",
    )
    parser.add_argument(
        "--feedback-dir",
        default=os.environ.get(ENV_FEEDBACK_DIR),
        help=f"POST /feedback appends labels here as CSV files [${ENV_FEEDBACK_DIR}; none]",
    )
    parser.add_argument(
        "--rollout",
        choices=ROLLOUT_MODES,
        default=os.environ.get(ENV_ROLLOUT, ROLLOUT.mode),
        help=f"try the challenger beside the model [${ENV_ROLLOUT}; %(default)s]",
    )
    parser.add_argument(
        "--challenger-bundle",
        type=Path,
        default=os.environ.get(ENV_CHALLENGER),
        help=f"the saved challenger [${ENV_CHALLENGER}; none]",
    )
    parser.add_argument(
        "--fraction",
        type=float,
        default=_from_env(ENV_FRACTION, float, ROLLOUT.fraction),
        help=f"canary: the share of rows the challenger answers [${ENV_FRACTION}; %(default)s]",
    )
    parser.add_argument(
        "--check", action="store_true", help="load the model, build the app and exit (no server)"
    )
    args = parser.parse_args(argv)
    if args.rollout != "none" and args.challenger_bundle is None:
        parser.error(f"--rollout {args.rollout} needs --challenger-bundle (${ENV_CHALLENGER})")
    if not 0 < args.fraction < 1:
        parser.error(f"--fraction must be between 0 and 1 (exclusive), got {args.fraction}")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    trying = args.rollout != "none"
    bundles = [args.bundle, *([args.challenger_bundle] if trying else [])]
    models = []
    for bundle in bundles:
        try:
            models.append(load_bundle(bundle))
        except Exception as exc:
            print(f"Error: cannot load the model bundle {bundle}: {exc}", file=sys.stderr)  # noqa: T201
            return 2
    model, challenger = models[0], (models[1] if trying else None)
    if args.check:
        build_app(model, ServeSettings())
        print(  # noqa: T201
            f"Model {model.meta.name} version {model.meta.version} loads; request fields: "
            f"{', '.join(model.schema.names)}"
        )
        return 0
    rollout = RolloutSettings(
        mode=args.rollout,
        fraction=args.fraction,
        seed=int(_from_env(ENV_SEED, int, ROLLOUT.seed)),
        score_column=os.environ.get(ENV_SCORE_COLUMN, ROLLOUT.score_column),
        challenger_bundle=str(args.challenger_bundle) if trying else None,
    )
    settings = ServeSettings(
        max_body_mb=args.max_body_mb,
        max_rows=args.max_rows,
        log_dir=args.log_dir,
        feedback_dir=args.feedback_dir,
        bundle=str(args.bundle),
        rollout=rollout,
    )
    try:
        serve(
            model,
            settings,
            challenger=challenger,
            host=args.host,
            port=args.port,
            workers=args.workers,
            echo=lambda line: print(line, file=sys.stderr, flush=True),  # noqa: T201
        )
    except ServeError as exc:
        print(f"Error: {exc.message}", file=sys.stderr)  # noqa: T201
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
