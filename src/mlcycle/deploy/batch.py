"""Batch scoring: the same model, schema, features and prediction log as the service, for a file.

The input is streamed: read ``READ_ROWS`` at a time (parquet by record batches, CSV by pandas'
chunked reader), scored in chunks of ``deployment.max_batch_rows``, logged as columns, written and
forgotten — ten million rows take the memory of one chunk. Rows that fail validation (or lack the
history their lags need) go to a rejects file with the reason. When the design
asks for it (``deployment.order_proposal``, a forecast with a time column), an order proposal
is written too: the predicted units per series for the latest time in the file, rounded up —
what a shop's ordering process reads.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from rich.console import Console
from rich.progress import Progress

from mlcycle.data.schema import times_of
from mlcycle.deploy.predictlog import short_error
from mlcycle.deploy.scoring import score_chunk
from mlcycle.deploy.serving import Serving
from mlcycle.exceptions import DataError, MlcycleError, ModelError, StoreError, UsageError, UseCaseError
from mlcycle.store import Store, open_store, store_url

if TYPE_CHECKING:
    from mlcycle.data.workspace import Workspace


@dataclass
class BatchResult:
    scored: int
    rejected: int
    version: str
    output: Path
    rejects: Path | None
    orders: Path | None
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return (self.scored + self.rejected) / self.seconds if self.seconds > 0 else 0.0


READ_ROWS = 100_000  # rows read from the input at a time: a few tens of MB whatever the file's size
LOG_PROCESS_ROWS = 250_000  # from this many rows on, the log is written by a process of its own (_ChunkLog)
LOG_PROCESS_BYTES = 25 << 20  # … or a CSV file this large (about as many rows of a few columns)


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".pq")


def read_table(path: Path) -> pd.DataFrame:
    """The whole input at once (small files: feedback, replays); batch scoring streams with :func:`read_chunks`."""
    if not path.is_file():
        raise DataError(f"--input {path} does not exist")
    try:
        return pd.read_parquet(path) if _is_parquet(path) else pd.read_csv(path)
    except Exception as exc:
        raise DataError(f"--input {path} could not be read: {exc}") from None


def read_chunks(path: Path, rows: int = READ_ROWS) -> Iterator[pd.DataFrame]:
    """The input ``rows`` at a time — a parquet file by its record batches, a CSV by pandas' chunked reader —
    so memory stays bounded by the chunk, not the file."""
    if not path.is_file():
        raise DataError(f"--input {path} does not exist")
    try:
        if _is_parquet(path):
            import pyarrow.parquet as pq

            with pq.ParquetFile(path) as parquet:
                for batch in parquet.iter_batches(batch_size=rows):
                    yield batch.to_pandas()
        else:
            with pd.read_csv(path, chunksize=rows) as reader:
                yield from reader
    except (OSError, ValueError, pd.errors.ParserError) as exc:  # pyarrow's errors are ValueErrors too
        raise DataError(f"--input {path} could not be read: {exc}") from None


def write_table(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if _is_parquet(path):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)


class TableWriter:
    """A CSV or parquet file written chunk by chunk, under a temporary name until :meth:`close` — a run that
    fails half-way leaves no half-written file where the result is expected. A parquet file's schema is
    its first chunk's; a later chunk that does not fit it (a CSV column read as whole numbers, then with a
    fraction) is a :class:`DataError` naming the column."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = path.with_name(f".{path.name}.partial")
        self.rows = 0
        self._parquet: Any = None
        self._schema: Any = None
        self._open = False

    def write(self, frame: pd.DataFrame) -> None:
        first = not self._open
        if first:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._open = True
        if not _is_parquet(self.path):
            frame.to_csv(self.partial, index=False, header=first, mode="w" if first else "a")
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            if self._parquet is None:
                table = pa.Table.from_pandas(frame, preserve_index=False)
                self._schema = table.schema
                self._parquet = pq.ParquetWriter(self.partial, self._schema)
            else:
                try:
                    table = pa.Table.from_pandas(frame, schema=self._schema, preserve_index=False)
                except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
                    self.abandon()
                    raise DataError(
                        f"{self.path}: a later part of the input does not fit the columns' types read from its "
                        f"first {self.rows:,} rows ({exc}); write to a CSV file (--output …csv) or give the "
                        "input as parquet, whose types are fixed"
                    ) from None
            self._parquet.write_table(table)
        self.rows += len(frame)

    def close(self) -> Path | None:
        """Move the file into place; None when nothing was written."""
        if self._parquet is not None:
            self._parquet.close()
        if not self._open:
            return None
        os.replace(self.partial, self.path)
        return self.path

    def abandon(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None
        self.partial.unlink(missing_ok=True)
        self._open = False


EXECUTORS = ("local", "ray")


def run(
    ws: Workspace,
    input_path: Path,
    output_path: Path,
    *,
    explain: bool = False,
    console: Console | None = None,
    read_rows: int = READ_ROWS,
    executor: str = "local",
    address: str | None = None,
    log_process: bool | None = None,
) -> BatchResult:
    """Score a file with the champion, streaming: read a chunk, score it ``deployment.max_batch_rows`` at a
    time, log it, write it, forget it. Memory is bounded by the chunk, not the file. ``executor="ray"``
    scores and logs on Ray Data (:mod:`mlcycle.deploy.raybatch`, parquet input; ``address`` a cluster's, else a
    local Ray); the files written are the same. ``log_process`` writes the log from a process of its own
    (default: for a large input, see :class:`_ChunkLog`)."""
    if executor not in EXECUTORS:
        raise UsageError(f"--executor must be one of {', '.join(EXECUTORS)}. Got {executor!r}")
    started = time.perf_counter()
    store = open_store(ws.state_dir)
    in_process = (_large(input_path) if log_process is None else log_process) and executor == "local"
    log = _ChunkLog(ws.state_dir, store, in_process=in_process)  # a process starts while the champion loads
    try:
        return _run(ws, store, log, input_path, output_path, explain, console, read_rows, executor, address, started)
    finally:
        log.close()
        store.close()


def _run(
    ws: Workspace,
    store: Store,
    log: _ChunkLog,
    input_path: Path,
    output_path: Path,
    explain: bool,
    console: Console | None,
    read_rows: int,
    executor: str,
    address: str | None,
    started: float,
) -> BatchResult:
    serving = Serving(ws, store)
    try:
        serving.load_champion()
    except ModelError as refused:
        raise UseCaseError(f"cannot score: {refused}") from None
    chunk = ws.spec.deployment.max_batch_rows
    version = serving.current.version if serving.current else "?"
    scored_out = TableWriter(output_path)
    rejects_out = TableWriter(output_path.with_name(output_path.stem + ".rejects" + output_path.suffix))
    latest = _Latest(ws)
    scored = rejected = 0
    progress = Progress(console=console, transient=True) if console else None
    task = progress.add_task("scoring", total=_rows_in(input_path)) if progress else None
    if progress:
        progress.start()
    try:
        if executor == "ray":
            from mlcycle.deploy import raybatch

            chunks = raybatch.scored_chunks(ws, input_path, explain=explain, address=address, chunk=chunk)
        else:
            chunks = _scored_chunks(serving, log, input_path, read_rows, chunk, explain=explain)
        for rows, out, rejects in chunks:
            if out is not None:
                scored_out.write(out)
                latest.see(out)
                scored += len(out)
            if rejects is not None:
                rejects_out.write(rejects)
                rejected += len(rejects)
            if progress and task is not None:
                progress.advance(task, rows)
    except BaseException:
        scored_out.abandon()
        rejects_out.abandon()
        raise
    finally:
        if progress:
            progress.stop()
    if not scored:  # nothing scored: the output still has the input's columns
        scored_out.write(pd.DataFrame(columns=_columns_of(input_path)))
    scored_out.close()
    orders = _order_proposal(ws, latest.rows, output_path) if latest.rows is not None else None
    seconds = time.perf_counter() - started
    return BatchResult(scored, rejected, version, output_path, rejects_out.close(), orders, seconds)


def _scored_chunks(
    serving: Serving, log: _ChunkLog, input_path: Path, read_rows: int, chunk: int, *, explain: bool
) -> Iterator[tuple[int, pd.DataFrame | None, pd.DataFrame | None]]:
    """(rows, scored rows, rejected rows) per chunk, each given back only once its log has committed — never a
    scored row without its record. The log of one chunk is written while the next is scored: the model and
    the database each keep a core."""
    pending: _Scored | None = None
    for read in read_chunks(input_path, read_rows):
        for start in range(0, len(read), chunk):
            part = read.iloc[start : start + chunk].reset_index(drop=True)
            out, bad, table = score_chunk(serving, part, chunk, explain=explain)
            logged = log.submit(table) if table is not None else None
            if pending is not None:
                yield pending.done()
            pending = _Scored(len(part), out, bad, logged)
    if pending is not None:
        yield pending.done()


class _ChunkLog:
    """Each chunk's audit rows written (:meth:`~mlcycle.store.PredictionLog.log_table`) one after another, on a
    thread of their own, while the next chunk is scored. For a large input the thread hands them to a
    process of its own (:class:`~mlcycle.deploy.logwriter.LogProcess`), which keeps the GIL free for scoring;
    starting it costs about three seconds of imports, on the core the champion's loading leaves idle — not worth it
    for a small file, hence ``LOG_PROCESS_ROWS``."""

    def __init__(self, state_dir: Path, store: Store, *, in_process: bool) -> None:
        from mlcycle.deploy.logwriter import LogProcess

        self.process = LogProcess(state_dir, store_url(state_dir)) if in_process else None
        self.log_table = self.process.log_table if self.process else store.predictions.log_table
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="mlcycle-batch-log")

    def submit(self, table: pd.DataFrame) -> Future[None]:
        return self.thread.submit(self.log_table, table)

    def close(self) -> None:
        """Wait for what is submitted, then end the process (if any) once its last rows are committed."""
        self.thread.shutdown(wait=True)
        if self.process is not None:
            self.process.close()


def _large(path: Path) -> bool:
    """Whether an input is large enough for the log to have a process of its own."""
    rows = _rows_in(path)
    if rows is not None:
        return rows >= LOG_PROCESS_ROWS
    return path.is_file() and path.stat().st_size >= LOG_PROCESS_BYTES


def _columns_of(path: Path) -> list[str]:
    if path.is_dir() or _is_parquet(path):
        import pyarrow.parquet as pq

        return list(pq.ParquetDataset(path).schema.names)  # the schema only, a file or a folder of them
    return list(pd.read_csv(path, nrows=0).columns)


def _rows_in(path: Path) -> int | None:
    """How many rows a parquet file holds (for the progress bar); None for a CSV, which would be read twice."""
    if not _is_parquet(path) or not path.is_file():
        return None
    try:
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    except Exception:  # an unreadable file is read_chunks' error to report
        return None


@dataclass(frozen=True)
class _Scored:
    """One chunk scored: its rows, what to write, and its log's commit under way."""

    rows: int
    out: pd.DataFrame | None
    rejects: pd.DataFrame | None
    logged: Future[None] | None

    def done(self) -> tuple[int, pd.DataFrame | None, pd.DataFrame | None]:
        """The chunk's rows once its log has committed; a StoreError, in the driver's words, if it did not."""
        if self.logged is not None:
            try:
                self.logged.result()
            except MlcycleError:
                raise
            except Exception as exc:  # whatever the driver raised: the rows have no record, so they are not given
                raise StoreError(
                    f"the prediction log did not take a chunk of {self.rows:,} scored rows ({short_error(exc)}), so "
                    "no output is written (every scored row needs its audit record); the chunks logged before "
                    "it stay in the log. Run the batch again once the store takes writes"
                ) from exc
        return self.rows, self.out, self.rejects


class _Latest:
    """Each series' last scored row at the latest time seen so far — all the order proposal reads — kept while
    streaming: as many rows as series, whatever the file's length (a row repeated for the same series and
    time is proposed once, its last occurrence)."""

    def __init__(self, ws: Workspace) -> None:
        self.column = ws.spec.time_column if ws.spec.deployment.order_proposal is not None else None
        self.keys = [*ws.spec.group_columns, *([self.column] if self.column else [])]
        self.rows: pd.DataFrame | None = None
        self.when: pd.Timestamp | None = None

    def see(self, scored: pd.DataFrame) -> None:
        if not self.column or self.column not in scored.columns or scored.empty:
            return
        times = times_of(scored[self.column])
        last = times.max()
        if self.when is not None and last < self.when:
            return
        rows = scored[times == last]
        if self.when is not None and last == self.when:
            rows = pd.concat([self.rows, rows], ignore_index=True)
        self.rows, self.when = rows.drop_duplicates(subset=self.keys, keep="last").reset_index(drop=True), last


def _order_proposal(ws: Workspace, scored: pd.DataFrame, output_path: Path) -> Path | None:
    """Each series' prediction for the latest time in the file, rounded up to whole units, with the columns the
    design asks for beside it (``deployment.order_proposal``); None when the design asks for none."""
    design = ws.spec
    proposal = design.deployment.order_proposal
    if proposal is None or design.task != "regression" or not design.time_column or scored.empty:
        return None
    times = pd.to_datetime(scored[design.time_column])
    latest = scored[times == times.max()]
    columns = [*design.group_columns, design.time_column]
    extra = [c for c in proposal.columns if c in latest.columns and c not in columns]
    orders = latest[[*columns, *extra]].copy()
    orders[f"order_{design.target}"] = [max(0, math.ceil(v)) for v in latest["prediction"]]
    path = output_path.with_name(output_path.stem + ".orders.csv")
    write_table(orders, path)
    return path
