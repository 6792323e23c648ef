"""The serving (inference) pipeline: wiring only."""

from kedro.pipeline import Pipeline, node

from ...features import predict
from .nodes import prepare_batch


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                prepare_batch,
                [
                    "production_batch",
                    "params:dataset",
                    "params:features",
                    "params:serving",
                ],
                "batch_features",
                name="prepare_batch",
            ),
            node(
                predict,
                [
                    "model",
                    "model_info",
                    "batch_features",
                    "params:dataset",
                    "params:features",
                    "params:serving",
                ],
                "predictions",
                name="predict_batch",
            ),
        ]
    )
