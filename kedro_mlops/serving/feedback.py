"""``POST /feedback``: labels as they become known, for rows the server answered.

A label names its row by the id column's value (``params:dataset.id_column``) or, for a model
without an id column, by the ``prediction_id`` ``/predict`` returned for it. Labels are validated
(the id's type, the label among the model's classes) and appended off the request path, like the
inference log, as CSV partitions of the ``serving.feedback_dataset`` folder (the starter's
``ground_truth``): the id, ``label`` and ``known_at``. ``kedro mlops rollout analyze`` and the
performance checks join them to the served rows by id.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import TYPE_CHECKING, Any

from kedro_mlops.config.serving import LABEL, PREDICTION_ID
from kedro_mlops.serving.schema import MAX_ERRORS, RequestError

if TYPE_CHECKING:
    import pandas as pd

    from kedro_mlops.serving.model import ServingModel

# accepted for the id besides its own name
ID_ALIAS = "id"
# what with_prediction_ids gives each row: uuid4().hex
_PREDICTION_ID_SHAPE = re.compile("[0-9a-f]{32}")
_ID_TYPES: dict[str, tuple[type, ...]] = {
    "long": (int,),
    "integer": (int,),
    "double": (int, float),
    "float": (int, float),
    "string": (str,),
}


def id_key(model: ServingModel) -> tuple[str, str]:
    """The field a label names its row by, and its type: the id column, else ``prediction_id``."""
    for column in model.schema.columns:
        if column.role == "id":
            return column.name, column.type
    return PREDICTION_ID, "string"


def label_classes(model: ServingModel) -> set[str] | None:
    """The classes a label may take: the model info's positive and negative class (the starter's
    ``model_info``), else a fitted estimator's ``classes_``; ``None`` when the model says not."""
    for value in model.values.values():
        if isinstance(value, dict) and {"positive_class", "negative_class"} <= set(value):
            return {str(value["positive_class"]), str(value["negative_class"])}
    for value in model.values.values():
        classes = getattr(value, "classes_", None)
        if classes is not None:
            return {str(item) for item in classes}
    return None


def feedback_rows(body: bytes, model: ServingModel, *, max_rows: int) -> pd.DataFrame:
    """The labels of a ``/feedback`` body (one object or an array of them) as rows to append
    (the log they go to stamps them ``known_at``).

    Raises:
        RequestError: naming the row and the field (a missing or mistyped id, a label outside
            the model's classes, unknown fields); above ``max_rows`` too.
    """
    import pandas as pd  # noqa: PLC0415

    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestError(f"the body is not JSON: {exc}") from None
    items = data if isinstance(data, list) else [data]
    if not items:
        raise RequestError("no labels: send an object or a non-empty array of objects")
    if len(items) > max_rows:
        raise RequestError(f"{len(items)} labels are more than serving.max_rows ({max_rows})")
    key, kind = id_key(model)
    classes = label_classes(model)
    ids, labels, errors = [], [], []
    for row, item in enumerate(items):
        problems = _problems(item, key, kind, classes)
        errors.extend({"row": row, "field": field, "message": text} for field, text in problems)
        if not problems:
            ids.append(item.get(key, item.get(ID_ALIAS)))
            labels.append(str(item[LABEL]))
    if errors:
        first = errors[0]
        raise RequestError(
            f"{len(errors)} invalid label(s); row {first['row']}, {first['field']}: "
            f"{first['message']}",
            errors[:MAX_ERRORS],
        )
    return pd.DataFrame({key: ids, LABEL: labels})


def _problems(item: object, key: str, kind: str, classes: set[str] | None) -> list[tuple[str, str]]:
    """What is wrong with one label object: (field, message) pairs."""
    if not isinstance(item, dict):
        return [("", f"expected an object {{{key!r}: ..., 'label': ...}}")]
    problems = []
    given = [name for name in (key, ID_ALIAS) if name in item]
    if len(given) != 1:
        problems.append((key, f"give the row's {key!r} (or {ID_ALIAS!r}) once"))
    else:
        value = item[given[0]]
        accepted = _ID_TYPES.get(kind, (str, int))
        if isinstance(value, bool) or not isinstance(value, accepted):
            names = " or ".join(t.__name__ for t in accepted)
            problems.append((given[0], f"expected {names} (the id of a served row), got {value!r}"))
        elif key == PREDICTION_ID and not _PREDICTION_ID_SHAPE.fullmatch(value):
            problems.append(
                (
                    given[0],
                    f"expected a prediction_id /predict returned (32 hex digits), got {value!r}",
                )
            )
    if LABEL not in item:
        problems.append((LABEL, "missing"))
    elif not isinstance(item[LABEL], (str, int, bool)) or (
        classes is not None and str(item[LABEL]) not in classes
    ):
        allowed = f"one of {sorted(classes)}" if classes is not None else "a class"
        problems.append((LABEL, f"expected {allowed}, got {item[LABEL]!r}"))
    unknown = sorted(set(item) - {key, ID_ALIAS, LABEL})
    if unknown:
        problems.append((unknown[0], f"unknown field (expected {key!r} and {LABEL!r})"))
    return problems


def with_prediction_ids(output: pd.DataFrame) -> pd.DataFrame:
    """``output`` with a ``prediction_id`` per row (random, unique): what a label names when
    the rows have no id column."""
    output[PREDICTION_ID] = [uuid.uuid4().hex for _ in range(len(output))]
    return output


def describe(model: ServingModel) -> dict[str, Any]:
    """What ``/metadata`` says about feedback."""
    key, _kind = id_key(model)
    classes = label_classes(model)
    return {"id": key, "labels": sorted(classes) if classes is not None else None}
