"""The serving pipelines: wiring only.

``create_pipeline``: the batch scoring of a whole table on Spark (``kedro run --pipeline
serving``). ``create_model_pipeline``: the same steps on pandas rows, the MLflow model logged by
training runs (online serving, ``mlflow.pyfunc``).
"""

from kedro.pipeline import Pipeline, node

from ...features import predict
from .nodes import predict_table, prepare_batch, prepare_table

# the logged model's input: the production batch read with pandas (its rows give the model's
# signature, as in a pandas project)
MODEL_INPUT = "production_rows"


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                prepare_table,
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
                predict_table,
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


def create_model_pipeline() -> Pipeline:
    return Pipeline(
        [
            node(
                prepare_batch,
                [MODEL_INPUT, "params:dataset", "params:features", "params:serving"],
                "request_features",
                name="prepare_request",
            ),
            node(
                predict,
                [
                    "model",
                    "model_info",
                    "request_features",
                    "params:dataset",
                    "params:features",
                    "params:serving",
                ],
                "request_predictions",
                name="predict_request",
            ),
        ]
    )
