"""Profiles of tables too large for one machine, on Ray Data: partial profiles per block, merged into one.

:class:`~mlcycle.data.reference.ProfileBuilder` folds a table in chunk by chunk; its bins are fixed by the
first chunk's range. Here the driver reads that first chunk to fix the bins, every Ray Data block is folded
into a :meth:`~mlcycle.data.reference.ProfileBuilder.blank` twin on the cluster, and the partials are added
up on the driver — counts, sums and extremes add exactly, so the profile is the one the local builder gives
on the same chunks (to the last bits of a floating sum's order). Drift of a large current table is then
:func:`mlcycle.monitor.drift` against this profile, as for any streamed profile.

Needs ``pip install 'mlcycle[ray]'``; ``address`` joins a cluster (``ray://host:10001``, ``auto``), else a
local Ray is started and stopped.
"""

from __future__ import annotations

import contextlib
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlcycle.data.reference import Profile, ProfileBuilder
from mlcycle.exceptions import BadInput, DataError

CHUNK_ROWS = 100_000  # rows per chunk: the first one fixes the bins, locally and here alike


def local_profile(path: Path, chunk_rows: int = CHUNK_ROWS) -> Profile:
    """The same profile streamed through one builder in this process (what the Ray version must equal)."""
    builder = ProfileBuilder()
    for chunk in _chunks(path, chunk_rows):
        builder.update(chunk)
    return builder.result()


def ray_profile(path: Path, *, chunk_rows: int = CHUNK_ROWS, address: str | None = None) -> Profile:
    """The profile of a parquet table (a file or a folder), each block profiled where it lies."""
    first = next(_chunks(path, chunk_rows), None)
    if first is None:
        return ProfileBuilder().result()
    seed = ProfileBuilder()
    seed.update(first)  # fixes the bins as the local builder's first chunk does; its counts are not kept
    blank = seed.blank()
    with ray_session(address) as ray:
        partials = ray.data.read_parquet(str(path)).map_batches(
            _partial, fn_kwargs={"blank": blank}, batch_size=chunk_rows, batch_format="pandas"
        )
        merged = seed.blank()
        for row in partials.iter_rows():
            merged.merge(pickle.loads(row["partial"]))
        return merged.result()


@contextlib.contextmanager
def ray_session(address: str | None = None) -> Iterator[Any]:
    """Ray, joined to the cluster at ``address`` (else a local Ray) unless this process is connected already;
    a Ray started here is stopped on the way out. Batch scoring and profiles on Ray Data both run inside one."""
    ray = ray_module()
    started_here = not ray.is_initialized()
    if started_here:
        options: dict[str, Any] = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
        ray.init(address=address, **options) if address else ray.init(**options)
    try:
        yield ray
    finally:
        if started_here:
            ray.shutdown()


def _partial(batch: pd.DataFrame, blank: ProfileBuilder) -> pd.DataFrame:
    """One block folded into a fresh twin of the driver's builder, shipped back pickled."""
    builder = pickle.loads(pickle.dumps(blank))  # each call its own copy
    builder.update(batch.reset_index(drop=True))
    return pd.DataFrame({"partial": np.array([pickle.dumps(builder)], dtype=object)})


def _chunks(path: Path, rows: int) -> Any:
    import pyarrow.parquet as pq

    if not path.exists():
        raise DataError(f"{path} does not exist")
    dataset = pq.ParquetDataset(path)
    for fragment in dataset.fragments:
        for batch in fragment.to_batches(batch_size=rows):
            yield batch.to_pandas()


def ray_module() -> Any:
    """Ray itself, or the one message that says how to install it (imported only where Ray is used)."""
    try:
        import ray
    except ImportError:
        raise BadInput("this needs Ray (executor 'ray', profiles on Ray Data): pip install 'mlcycle[ray]'") from None
    return ray


__all__ = ["CHUNK_ROWS", "local_profile", "ray_module", "ray_profile", "ray_session"]
