"""Online serving: the project's inference pipeline behind a typed REST API.

Usable from Python on its own (FastAPI and uvicorn are imported only when an app is built)::

    from kedro_mlops.serving.source import load_from_mlflow
    from kedro_mlops.serving.server import ServeSettings, build_app, serve
"""
