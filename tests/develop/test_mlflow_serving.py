"""The registered champion is an ordinary MLflow model: `mlflow models serve` scores it with no extra arguments."""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

from tests.servers import free_port, process_serving


def test_mlflow_models_serve_scores_the_champion(promoted_example: Any) -> None:
    uc, _ = promoted_example
    port = free_port()
    uri = f"sqlite:///{uc.state_dir / 'mlflow.db'}"
    mlflow_cli = Path(sys.executable).parent / "mlflow"
    # mlflow starts `uvicorn` by name: the virtual environment's bin folder must be on PATH, as when activated
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": uri,
        "MLFLOW_REGISTRY_URI": uri,
        "PATH": f"{mlflow_cli.parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    command = [
        str(mlflow_cli),
        "models",
        "serve",
        "-m",
        "models:/store-sales@champion",
        "--env-manager",
        "local",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    with process_serving(command, port, "/ping", env):
        rows = uc.data[uc.data["date"] > "2011-08-31"].head(5)[["date", "item", "price"]]
        body = {
            "dataframe_split": {
                "columns": list(rows.columns),
                "data": rows.assign(date=rows["date"].dt.strftime("%Y-%m-%d")).values.tolist(),
            }
        }
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            predictions = json.loads(answer.read())["predictions"]
        assert len(predictions) == 5 and np.isfinite(np.asarray(predictions, dtype=float)).all()
