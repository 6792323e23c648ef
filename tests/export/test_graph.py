"""Task order from the pipelines' data, not from their names."""

from __future__ import annotations

import pytest

from kedro_mlops.export import ExportError, PipelineData, topological_order, upstream_of
from kedro_mlops.export.graph import ancestors, producer_of


def data(name: str, inputs: str = "", outputs: str = "") -> PipelineData:
    return PipelineData.of(name, set(inputs.split()), set(outputs.split()))


STARTER = [
    data("serving", "model model_info production_batch params:x", "batch_features predictions"),
    data("data_science", "train_set test_set params:model", "model model_info metrics"),
    data("data_engineering", "raw_data parameters", "train_set test_set reference_features"),
]


@pytest.mark.parametrize(
    ("pipelines", "expected_upstream", "expected_order"),
    [
        (  # the starter, listed backwards: the data decides
            STARTER,
            {"serving": ("data_science",), "data_science": ("data_engineering",),
             "data_engineering": ()},
            ["data_engineering", "data_science", "serving"],
        ),
        (  # a user's pipeline named to sort first, consuming the predictions: placed last
            [*STARTER, data("aaa_report", "predictions", "report")],
            {"aaa_report": ("serving",)},
            ["data_engineering", "data_science", "serving", "aaa_report"],
        ),
        (  # a feature pipeline between engineering and science
            [
                data("science", "features_plus", "model"),
                data("extra_features", "features", "features_plus"),
                data("engineering", "raw", "features"),
            ],
            {"science": ("extra_features",), "extra_features": ("engineering",)},
            ["engineering", "extra_features", "science"],
        ),
        (  # independent pipelines keep the configured order and have no upstream
            [data("b", "x", "y"), data("a", "z", "w")],
            {"a": (), "b": ()},
            ["b", "a"],
        ),
        (  # parameters are no data: sharing params:* creates no edge
            [data("a", "params:model", "p"), data("b", "params:model parameters", "q")],
            {"a": (), "b": ()},
            ["a", "b"],
        ),
        (  # several producers: every one is upstream
            [data("left", "", "l"), data("right", "", "r"), data("join", "l r", "j")],
            {"join": ("left", "right")},
            ["left", "right", "join"],
        ),
    ],
)  # fmt: skip
def test_order_follows_the_data(pipelines, expected_upstream, expected_order):
    upstream = upstream_of(pipelines)
    for name, before in expected_upstream.items():
        assert upstream[name] == before
    assert topological_order(upstream) == expected_order


def test_a_cycle_is_refused_with_the_pipelines_named():
    pipelines = [data("a", "y", "x"), data("b", "x", "y"), data("c", "", "z")]
    with pytest.raises(ExportError) as error:
        upstream_of(pipelines)
    assert error.value.exit_code == 2
    assert error.value.message == (
        "The pipelines a, b consume each other's outputs in a cycle: no task order exists. "
        "Split a pipeline so that data flows one way."
    )


def test_two_writers_of_one_dataset_are_refused():
    with pytest.raises(ExportError, match=r"Pipelines 'a' and 'b' both write dataset 'x'"):
        upstream_of([data("a", "", "x"), data("b", "", "x")])


def test_ancestors_and_producer():
    upstream = upstream_of(STARTER)
    assert ancestors(upstream, "serving") == {"data_science", "data_engineering"}
    assert ancestors(upstream, "data_engineering") == set()
    assert producer_of(STARTER, "batch_features") == "serving"
    assert producer_of(STARTER, "nowhere") is None
