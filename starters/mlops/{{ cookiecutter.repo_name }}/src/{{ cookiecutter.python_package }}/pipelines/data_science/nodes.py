"""Data science nodes: build, train and evaluate an sklearn ``Pipeline``."""

from __future__ import annotations

import hashlib
import inspect
import pickle
from datetime import datetime, timezone
from typing import Any

import pandas as pd
from kedro.utils import load_obj
from sklearn import metrics
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ...features import model_input, numeric_feature_columns, positive_probability

# the columns of the search results table besides the parameters (scikit-learn's names)
SEARCH_SCORES = ["mean_test_score", "std_test_score", "rank_test_score"]


class ParameterError(ValueError):
    """A parameter of ``conf/`` cannot be used. ``exit_code`` 2 (bad input): ``kedro run``
    ends with the message and the node, without a traceback (kept in info.log)."""

    exit_code = 2


# Kedro merges `--params` into conf/: another estimator named there keeps these
SWITCH_HINT = (
    "To switch estimators, `kedro run --params` is not enough (it is merged into "
    "conf/base/parameters_data_science.yml: the hyper-parameters there stay); give the "
    "new estimator its whole `model` section in conf/<env>/parameters_data_science.yml "
    "and run `kedro run --env <env>` (README: Switch the estimator)"
)


def make_estimator(model: dict[str, Any]) -> Any:
    """Instantiate the configured classifier from its import path and hyper-parameters.

    Raises:
        ParameterError: the estimator cannot be imported, or a hyper-parameter is not
            one of its parameters.
    """
    estimator_class = load_estimator(model)
    hyperparameters = model.get("hyperparameters") or {}
    if not isinstance(hyperparameters, dict):
        raise ParameterError(
            "model.hyperparameters must map parameter names to values, got "
            f"{hyperparameters!r}"
        )
    check_parameters(
        estimator_class, model["estimator"], hyperparameters, "model.hyperparameters"
    )
    return estimator_class(**hyperparameters)


def load_estimator(model: dict[str, Any]) -> Any:
    """The class named by ``model.estimator``."""
    path = model["estimator"]
    try:
        return load_obj(path)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ParameterError(
            f"model.estimator {path!r} in conf/base/parameters_data_science.yml cannot be "
            f"imported: {exc}"
        ) from exc


def accepted_parameters(estimator_class: Any) -> list[str] | None:
    """The keyword arguments ``estimator_class`` takes (scikit-learn estimators name all
    of theirs), or None when it takes any (``**kwargs``) or cannot be inspected."""
    try:
        parameters = inspect.signature(estimator_class).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return sorted((p.name for p in parameters if p.kind in named), key=str.lower)


def check_parameters(
    estimator_class: Any, path: str, names: dict[str, Any], key: str
) -> None:
    """Raise a ``ParameterError`` naming the keys of ``names`` (found under ``key``) that
    the estimator does not accept, and the ones it does."""
    accepted = accepted_parameters(estimator_class)
    if accepted is None:
        return
    unknown = sorted(set(names) - set(accepted))
    if unknown:
        raise ParameterError(
            f"{key} has {unknown}, which {path} does not accept; it accepts "
            f"{accepted}. {SWITCH_HINT}."
        )


def make_pipeline(
    dataset: dict[str, Any], features: dict[str, Any], model: dict[str, Any]
) -> Pipeline:
    """Preprocessing (imputation, scaling, one-hot encoding) followed by the classifier."""
    preprocessing = ColumnTransformer(
        [
            (
                "numeric",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="median")),
                        ("scale", StandardScaler()),
                    ]
                ),
                numeric_feature_columns(dataset, features),
            ),
            (
                "categorical",
                Pipeline(
                    [
                        (
                            "impute",
                            SimpleImputer(strategy="constant", fill_value="missing"),
                        ),
                        (
                            "encode",
                            OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                        ),
                    ]
                ),
                list(dataset["categorical_features"]),
            ),
        ]
    )
    return Pipeline(
        [("preprocess", preprocessing), ("classifier", make_estimator(model))]
    )


def train_model(
    train: pd.DataFrame,
    dataset: dict[str, Any],
    features: dict[str, Any],
    model: dict[str, Any],
) -> tuple[Pipeline, pd.DataFrame]:
    """Fit the pipeline, through a cross-validated search when ``model.search.enabled``.

    Returns:
        The fitted pipeline and the search results: one row per candidate (its parameters,
        mean and standard deviation of the cross-validated score, rank), best first; no rows
        without a search.
    """
    x_train = model_input(train, dataset, features)
    y_train = train[dataset["target"]].astype(str)
    pipeline = make_pipeline(dataset, features, model)
    search = model.get("search") or {}
    if not search.get("enabled", False):
        return pipeline.fit(x_train, y_train), pd.DataFrame(columns=SEARCH_SCORES)

    param_grid = search.get("param_grid") or {}
    check_parameters(
        load_estimator(model), model["estimator"], param_grid, "model.search.param_grid"
    )
    grid = {f"classifier__{name}": values for name, values in param_grid.items()}
    common = {
        "scoring": search.get("scoring", "roc_auc"),
        "cv": search.get("cv", 3),
        "refit": True,
    }
    method = search.get("method", "grid")
    if method == "grid":
        searcher = GridSearchCV(pipeline, grid, **common)
    elif method == "random":
        searcher = RandomizedSearchCV(
            pipeline,
            grid,
            n_iter=search.get("n_iter", 8),
            random_state=search.get("random_state"),
            **common,
        )
    else:
        raise ParameterError(
            f"model.search.method must be 'grid' or 'random', got {method!r}"
        )
    # roc_auc and friends need to know which label is positive
    y_binary = (y_train == str(dataset["positive_class"])).astype(int)
    searcher.fit(x_train, y_binary)
    fitted = pipeline.set_params(**searcher.best_params_).fit(x_train, y_train)
    return fitted, search_table(searcher.cv_results_)


def search_table(cv_results: dict[str, Any]) -> pd.DataFrame:
    """A search's candidates, best first: one column per parameter, then the scores."""
    table = pd.DataFrame(cv_results)
    names = [c for c in table.columns if c.startswith("param_classifier__")]
    table = table[names + SEARCH_SCORES].rename(
        columns={c: c.removeprefix("param_classifier__") for c in names}
    )
    return table.sort_values("rank_test_score", kind="stable").reset_index(drop=True)


def summarise_search(
    results: pd.DataFrame, model: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """The chosen parameters and the best cross-validated score of a search (empty without
    one), for the run: parameters ``best.<name>``, metric ``search_best_<scoring>``."""
    if results.empty:
        return {}, {}
    # column by column: a row of the table would turn every value into a float
    chosen = {
        name: _plain(results[name].iloc[0])
        for name in results.columns
        if name not in SEARCH_SCORES
    }
    scoring = (model.get("search") or {}).get("scoring", "roc_auc")
    score = float(results["mean_test_score"].iloc[0])
    return chosen, {f"search_best_{scoring}": {"value": score, "step": 0}}


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value (what the parameters YAML would hold)."""
    return value.item() if hasattr(value, "item") else value


def describe_model(
    model: Pipeline, train: pd.DataFrame, dataset: dict[str, Any]
) -> dict[str, Any]:
    """Identity card of the fitted model, stored beside it and copied into predictions."""
    version = hashlib.sha256(pickle.dumps(model)).hexdigest()[:12]
    classes = [str(label) for label in model.classes_]
    positive = str(dataset["positive_class"])
    return {
        "name": type(model.named_steps["classifier"]).__name__,
        "version": version,
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "classes": classes,
        "positive_class": positive,
        "negative_class": next(label for label in classes if label != positive),
        "training_rows": len(train),
    }


def evaluate_model(
    model: Pipeline,
    test: pd.DataFrame,
    dataset: dict[str, Any],
    features: dict[str, Any],
) -> tuple[dict[str, dict[str, float]], Any, Any]:
    """Metrics on the test split, a confusion matrix and a ROC curve.

    Returns:
        Metrics in kedro-mlflow's ``{name: {"value": v, "step": 0}}`` form and two
        matplotlib figures (typed ``Any``: matplotlib is imported only when plotting).
    """
    positive = str(dataset["positive_class"])
    y_true = (test[dataset["target"]].astype(str) == positive).astype(int)
    probability = positive_probability(
        model, model_input(test, dataset, features), positive
    )
    y_pred = (probability >= 0.5).astype(int)  # noqa: PLR2004 - the default decision rule
    values = {
        "roc_auc": metrics.roc_auc_score(y_true, probability),
        "average_precision": metrics.average_precision_score(y_true, probability),
        "f1": metrics.f1_score(y_true, y_pred, zero_division=0),
        "precision": metrics.precision_score(y_true, y_pred, zero_division=0),
        "recall": metrics.recall_score(y_true, y_pred, zero_division=0),
        "accuracy": metrics.accuracy_score(y_true, y_pred),
        "log_loss": metrics.log_loss(y_true, probability, labels=[0, 1]),
    }
    logged = {
        name: {"value": float(value), "step": 0} for name, value in values.items()
    }

    # imported here: plots are for training runs, the serving image holds no plotting library
    from matplotlib.figure import Figure  # noqa: PLC0415

    confusion = Figure(figsize=(5, 4))
    metrics.ConfusionMatrixDisplay.from_predictions(
        y_true,
        y_pred,
        display_labels=["other", positive],
        ax=confusion.subplots(),
        colorbar=False,
    )
    confusion.suptitle("Confusion matrix (test split)")

    roc = Figure(figsize=(5, 4))
    metrics.RocCurveDisplay.from_predictions(
        y_true, probability, ax=roc.subplots(), name=type(model[-1]).__name__
    )
    roc.suptitle(f"ROC curve (test split), AUC = {values['roc_auc']:.3f}")
    return logged, confusion, roc
