"""The data engineering pipeline (Spark): wiring only."""

from kedro.pipeline import Pipeline, node

from .nodes import (
    build_features,
    clean_data,
    snapshot_reference,
    split_data,
    validate_data,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                validate_data,
                ["raw_data", "params:dataset", "params:validation"],
                "validated_data",
                name="validate_raw_data",
            ),
            node(
                clean_data,
                ["validated_data", "params:dataset"],
                "clean_data",
                name="clean_raw_data",
            ),
            node(
                build_features,
                ["clean_data", "params:dataset", "params:features"],
                "features",
                name="build_features",
            ),
            node(
                split_data,
                ["features", "params:dataset", "params:split"],
                ["train_set", "test_set"],
                name="split_train_test",
            ),
            node(
                snapshot_reference,
                [
                    "train_set",
                    "params:dataset",
                    "params:features",
                    "params:reference",
                ],
                "reference_features",
                name="snapshot_reference_features",
            ),
        ]
    )
