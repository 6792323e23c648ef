"""The data science pipeline: wiring only."""

from kedro.pipeline import Pipeline, node

from .nodes import describe_model, evaluate_model, train_model


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                train_model,
                ["train_set", "params:dataset", "params:features", "params:model"],
                "model",
                name="train_model",
            ),
            node(
                describe_model,
                ["model", "train_set", "params:dataset"],
                "model_info",
                name="describe_model",
            ),
            node(
                evaluate_model,
                ["model", "test_set", "params:dataset", "params:features"],
                ["evaluation_metrics", "confusion_matrix", "roc_curve"],
                name="evaluate_model",
            ),
        ]
    )
