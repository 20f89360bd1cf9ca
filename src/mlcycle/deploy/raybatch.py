"""Batch scoring on Ray Data: ``mlcycle predict --executor ray``.

The parquet input is read by Ray Data and scored by ``map_batches`` over a pool of actors, each holding the
champion once (loaded from the registry, as a service worker does) and writing its own chunks to the
prediction log — so on a cluster the scoring and the logging run on every node at once. The driver streams the
scored blocks back in order and writes them with the local path's writers: the output files, the rejects and
the order proposal are the local path's, row for row (a test compares them).

What a cluster needs: the same Python with ``pip install 'mlcycle[ray]'`` (and ``[postgres]``) on every node,
the use case's folder at the same path (the design and the registry's artifacts), and a store every node can
reach — ``MLCYCLE_STORE_URL=postgresql+psycopg://…``. On one machine the SQLite store works too: its writers
take turns.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from mlcycle.data.distributed import ray_session
from mlcycle.data.workspace import Workspace
from mlcycle.deploy.scoring import score_chunk
from mlcycle.deploy.serving import Serving
from mlcycle.exceptions import DataError
from mlcycle.store import STORE_ENV, open_store

REASON = "__mlcycle_reason"  # a rejected row's reason while it travels with the scored rows


class Scorer:
    """One actor of the pool: the champion loaded once, then chunks scored and logged (Ray Data's callable class).

    Returns each chunk's scored rows (with prediction and request id) followed by its rejected rows (with
    their reason in :data:`REASON`), which the driver splits again."""

    def __init__(self, folder: str, explain: bool, store_url: str | None) -> None:
        self.ws = Workspace.load(folder)
        self.store = open_store(self.ws.state_dir, store_url, migrate=False)  # the driver migrated it
        self.serving = Serving(self.ws, self.store)
        self.serving.load_champion()
        self.explain = explain

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        chunk = max(1, len(batch))
        out, rejects, table = score_chunk(self.serving, batch.reset_index(drop=True), chunk, explain=self.explain)
        if table is not None:
            self.store.predictions.log_table(table)  # before the rows leave the actor, as the local path does
        parts = []
        if out is not None:
            parts.append(out.assign(**{REASON: None}))
        if rejects is not None:
            parts.append(rejects.rename(columns={"reason": REASON}))
        return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def scored_chunks(
    ws: Workspace, input_path: Path, *, explain: bool, address: str | None, chunk: int
) -> Iterator[tuple[int, pd.DataFrame | None, pd.DataFrame | None]]:
    """(rows, scored rows, rejected rows) per block, in the input's order, scored and logged on Ray."""
    import os

    if input_path.suffix.lower() not in (".parquet", ".pq") and not input_path.is_dir():
        raise DataError(
            f"--executor ray reads parquet (a file or a folder of them); {input_path} is not. Convert it once, "
            "e.g. pandas.read_csv(…).to_parquet(…), or score it with --executor local"
        )
    if not input_path.exists():
        raise DataError(f"--input {input_path} does not exist")
    with ray_session(address) as ray:
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True  # the output in the input's order, as locally
        # one core left to Ray Data's readers: a pool holding every core starves the reads that feed it
        slots = max(1, int(ray.cluster_resources().get("CPU", 1)) - 1)
        dataset = ray.data.read_parquet(str(input_path)).map_batches(
            Scorer,
            fn_constructor_args=(str(ws.folder), explain, os.environ.get(STORE_ENV)),
            batch_size=chunk,
            batch_format="pandas",
            concurrency=slots,
            num_cpus=1,
        )
        for arrow in dataset.iter_batches(batch_size=None, batch_format="pyarrow"):
            block = arrow.to_pandas()  # pandas' own types, as the local path reads a parquet batch
            rejected = block[REASON].notna()
            scored = block[~rejected].drop(columns=REASON).reset_index(drop=True)
            rejects = block[rejected].rename(columns={REASON: "reason"})
            rejects = rejects.drop(columns=[c for c in ("prediction", "request_id", "explanation") if c in rejects])
            yield (
                len(block),
                scored if len(scored) else None,
                rejects.reset_index(drop=True) if len(rejects) else None,
            )


__all__ = ["Scorer", "scored_chunks"]
