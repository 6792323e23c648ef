"""The data science pipeline: wiring only. Training and evaluation run on pandas samples of
the Spark tables (``model.max_training_rows``); the nodes are the pandas project's."""

from kedro.pipeline import Pipeline, node

from ...features import predict
from .nodes import describe_model, evaluate_model, summarise_search, train_model
from .sampling import sample_for_training


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                sample_for_training,
                [
                    "train_set",
                    "test_set",
                    "params:dataset",
                    "params:model",
                    "params:split",
                ],
                ["train_sample", "test_sample", "sampling_metrics"],
                name="sample_for_training",
            ),
            node(
                train_model,
                ["train_sample", "params:dataset", "params:features", "params:model"],
                ["model", "search_results"],
                name="train_model",
            ),
            node(
                summarise_search,
                ["search_results", "params:model"],
                ["search_params", "search_metrics"],
                name="summarise_search",
            ),
            node(
                describe_model,
                ["model", "train_sample", "params:dataset"],
                "model_info",
                name="describe_model",
            ),
            node(
                evaluate_model,
                ["model", "test_sample", "params:dataset", "params:features"],
                ["evaluation_metrics", "confusion_matrix", "roc_curve"],
                name="evaluate_model",
            ),
            # the model's outputs on the test sample, as the serving pipeline makes them: the
            # reference of prediction drift (same model, same threshold, unseen rows)
            node(
                predict,
                [
                    "model",
                    "model_info",
                    "test_sample",
                    "params:dataset",
                    "params:features",
                    "params:serving",
                ],
                "reference_predictions",
                name="predict_reference",
            ),
        ]
    )
