"""POST /feedback: labels of served rows, validated and appended off the request path."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from kedro.pipeline import node

from kedro_mlops.serving.app import ModelHolder, create_app
from kedro_mlops.serving.model import ModelMeta, ServingModel
from kedro_mlops.serving.schema import build_schema
from kedro_mlops.serving.traffic import TrafficLog, csv_partitions
from tests.serving.conftest import rows_of

with warnings.catch_warnings():  # starlette's notice about httpx2, not ours to act on
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def app_with_feedback(model, directory):
    log = TrafficLog(csv_partitions(directory), flush_s=3600, stamp_column="known_at")
    return create_app(ModelHolder(model), feedback=log)


def written(directory) -> pd.DataFrame:
    return pd.concat([pd.read_csv(path) for path in sorted(directory.glob("*.csv"))])


def test_labels_are_accepted_and_written_with_when_they_were_known(model, tmp_path):
    rows = rows_of(3)
    with TestClient(app_with_feedback(model, tmp_path / "truth")) as client:
        one = client.post("/feedback", json={"customer_id": rows[0]["customer_id"], "label": "yes"})
        many = client.post(
            "/feedback",
            json=[{"id": row["customer_id"], "label": "no"} for row in rows[1:]],
        )
        described = client.get("/metadata").json()["feedback"]
    assert (one.status_code, one.json()) == (202, {"accepted": 1})
    assert (many.status_code, many.json()) == (202, {"accepted": 2})
    assert described == {"id": "customer_id", "labels": ["no", "yes"]}
    frame = written(tmp_path / "truth")
    assert list(frame.columns) == ["customer_id", "label", "known_at"]
    assert frame["customer_id"].tolist() == [row["customer_id"] for row in rows]
    assert frame["label"].tolist() == ["yes", "no", "no"]
    assert pd.to_datetime(frame["known_at"]).notna().all()


@pytest.mark.parametrize(
    ("body", "detail", "errors"),
    [
        (
            {"customer_id": 1, "label": "maybe"},
            "1 invalid label(s); row 0, label: expected one of ['no', 'yes'], got 'maybe'",
            [{"row": 0, "field": "label", "message": "expected one of ['no', 'yes'], got 'maybe'"}],
        ),
        (
            [{"customer_id": 1, "label": "no"}, {"customer_id": "c-7", "label": "no"}],
            "1 invalid label(s); row 1, customer_id: expected int (the id of a served row), "
            "got 'c-7'",
            [
                {
                    "row": 1,
                    "field": "customer_id",
                    "message": "expected int (the id of a served row), got 'c-7'",
                }
            ],
        ),
        (
            {"customer_id": 1, "label": "no", "score": 3},
            "1 invalid label(s); row 0, score: unknown field (expected 'customer_id' and 'label')",
            [
                {
                    "row": 0,
                    "field": "score",
                    "message": "unknown field (expected 'customer_id' and 'label')",
                }
            ],
        ),
        (
            {"label": "no"},
            "1 invalid label(s); row 0, customer_id: give the row's 'customer_id' (or 'id') once",
            [
                {
                    "row": 0,
                    "field": "customer_id",
                    "message": "give the row's 'customer_id' (or 'id') once",
                }
            ],
        ),
    ],
)
def test_bad_labels_are_422_naming_the_row_and_field(model, tmp_path, body, detail, errors):
    with TestClient(app_with_feedback(model, tmp_path)) as client:
        response = client.post("/feedback", json=body)
    assert response.status_code == 422
    assert response.json() == {"detail": detail, "errors": errors}
    assert not list(tmp_path.glob("*.csv"))  # nothing of a refused body is written


def test_without_a_feedback_dataset_feedback_is_404(model):
    with TestClient(create_app(ModelHolder(model))) as client:
        response = client.post("/feedback", json={"customer_id": 1, "label": "no"})
    assert response.status_code == 404
    assert response.json()["detail"] == (
        "no feedback here: set serving.feedback_dataset in mlops.yml"
    )


def doubled(batch: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"row": np.arange(len(batch)), "doubled": batch["x"] * 2})


def test_rows_without_an_id_get_a_prediction_id_that_feedback_names(tmp_path):
    model = ServingModel(
        nodes=[node(doubled, "batch", "predictions")],
        values={},
        input_name="batch",
        output_name="predictions",
        schema=build_schema({"id_column": None, "numeric_features": ["x"]}),
        meta=ModelMeta(name="m", version="1"),
    )
    with TestClient(app_with_feedback(model, tmp_path)) as client:
        answers = client.post("/predict", json=[{"x": 1.0}, {"x": 2.0}]).json()["predictions"]
        ids = [answer["prediction_id"] for answer in answers]
        accepted = client.post(
            "/feedback", json=[{"prediction_id": ids[0], "label": 1}, {"id": ids[1], "label": 0}]
        )
    assert len(set(ids)) == 2 and all(len(i) == 32 for i in ids)
    assert accepted.status_code == 202
    assert written(tmp_path)["prediction_id"].tolist() == ids
    with TestClient(app_with_feedback(model, tmp_path)) as client:
        refused = client.post("/feedback", json={"id": "8a74", "label": 1})
    assert refused.status_code == 422
    assert refused.json()["detail"] == (
        "1 invalid label(s); row 0, id: expected a prediction_id /predict returned "
        "(32 hex digits), got '8a74'"
    )
