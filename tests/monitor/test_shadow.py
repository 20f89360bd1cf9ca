"""Shadow scoring must reproduce what the service answered: same model, same rows, lags from the actuals."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcycle.monitor import performance, shadow
from mlcycle.store import open_store
from tests.deploy.conftest import copy_use_case
from tests.monitor.conftest import serve_period


def test_the_champion_shadow_scored_gives_its_logged_answers(promoted_example: Any, tmp_path: Any) -> None:
    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    serve_period(uc, "2011-08-31", "2011-10-20")  # seven weeks: lags of 28 days reach back into served days
    store = open_store(uc.state_dir)
    labelled = performance.labelled_predictions(uc.workspace, store).dropna(subset=["actual"])
    rows = shadow.labelled_rows(uc.workspace, store, labelled)
    version = str(labelled["model_version"].iloc[0])
    again = shadow.predict(uc.workspace, store, shadow.load_version(uc.workspace, version), rows)
    np.testing.assert_allclose(again, labelled["output"].to_numpy(dtype=float), rtol=1e-9, atol=1e-9)
    score = shadow.score(uc.workspace, store, shadow.load_version(uc.workspace, version), rows, metric="mae")
    assert score.rows == len(labelled)
    assert np.isclose(score.metric_value, np.mean(np.abs(labelled["actual"] - labelled["output"])))
