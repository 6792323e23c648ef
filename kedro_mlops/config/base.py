"""What every section of ``mlops.yml`` shares, and the defaults other modules name."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

# in packaging.pipelines: the online-serving image (the REST API with the model inside), not a
# Kedro pipeline
SERVE_IMAGE = "serve"
SERVE_PORT = 8080  # the port the serving image listens on
# a dataset drifts when at least this share of its columns drift (every check, `kedro mlops
# monitor` on files too, unless `drift_share` / --drift-share says otherwise)
DEFAULT_DRIFT_SHARE = 0.2
# the image every packaged image starts from (`packaging.base_image`, --base-image)
DEFAULT_BASE_IMAGE = "python:3.11-slim"


class Section(BaseModel):
    """A section of ``mlops.yml``: unknown keys are refused, values are frozen, and every field
    has a description (the configuration reference and the shipped ``mlops.yml`` are written
    from them)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
