"""The registered champion is an ordinary MLflow model: `mlflow models serve` scores it with no extra arguments."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_mlflow_models_serve_scores_the_champion(promoted_example: Any) -> None:
    uc, _ = promoted_example
    port = _free_port()
    uri = f"sqlite:///{uc.state_dir / 'mlflow.db'}"
    mlflow_cli = Path(sys.executable).parent / "mlflow"
    # mlflow starts `uvicorn` by name: the virtual environment's bin folder must be on PATH, as when activated
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "MLFLOW_REGISTRY_URI": uri,
           "PATH": f"{mlflow_cli.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    server = subprocess.Popen([str(mlflow_cli), "models", "serve", "-m", "models:/store-sales@champion",
                               "--env-manager", "local", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.time() > deadline:
                    raise AssertionError(f"mlflow models serve did not start: {server.stderr.read().decode()[-2000:]}")
                time.sleep(0.5)
        rows = uc.data[uc.data["date"] > "2011-08-31"].head(5)[["date", "item", "price"]]
        body = {"dataframe_split": {"columns": list(rows.columns),
                                    "data": rows.assign(date=rows["date"].dt.strftime("%Y-%m-%d")).values.tolist()}}
        request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            predictions = json.loads(answer.read())["predictions"]
        assert len(predictions) == 5 and np.isfinite(np.asarray(predictions, dtype=float)).all()
    finally:
        server.terminate()
        server.wait(timeout=30)
