"""Drift at scale: mlcycle vs Evidently's data-drift preset vs plain per-column scipy, measured in the same run.

    .venv/bin/python bench/drift.py                 # 1,000,000 rows × (20 numeric + 5 categorical)
    .venv/bin/python bench/drift.py --rows 200000   # a quicker look
    .venv/bin/python bench/drift.py --wide          # also 3,000,000 rows × 1,000 columns, mlcycle alone, streamed

Reference and current frames are generated once (seeded) and written to parquet; each contender then runs in
its own process, so its time and its peak memory (ru_maxrss, the frames included for everyone alike) are its
own. Six columns are shifted in the current frame — a 0.25σ and a 0.5σ mean shift, a 1.5× spread, a skewed
column stretched, two categorical columns with moved shares — the other nineteen are drawn afresh from the
same distributions, so any of them flagged is a false alarm.

Evidently needs pandas < 3; it runs from its own environment, ``bench/.venv-evidently``, created on first use
(``evidently==0.7.23``). It is never a dependency of mlcycle.

The wide run (3M × 1,000 = 24 GB as float64) never holds the table: chunks of rows are generated and folded
into :class:`mlcycle.data.reference.ProfileBuilder` — fixed fine histograms per column — for the reference
and for the current data; drift then compares the two profiles.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
EVIDENTLY_ENV = HERE / ".venv-evidently"
SHIFTED = {
    "num_00": "mean +0.25σ",
    "num_01": "mean +0.5σ",
    "num_02": "spread ×1.5",
    "num_03": "stretched tail",
    "cat_00": "shares moved",
    "cat_01": "a new category",
}
NUMERIC, CATEGORICAL = 20, 5


def frames(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)

    def table(shifted: bool) -> pd.DataFrame:
        data: dict[str, np.ndarray] = {}
        for i in range(NUMERIC):
            name = f"num_{i:02d}"
            scale, loc = 1.0 + i % 5, 10.0 * (i % 3)
            values = rng.standard_normal(rows) if i % 4 else rng.lognormal(0, 0.6, rows)
            if shifted and name == "num_00":
                values = values + 0.25 * values.std()
            if shifted and name == "num_01":
                values = values + 0.5 * values.std()
            if shifted and name == "num_02":
                values = values * 1.5
            if shifted and name == "num_03":
                values = np.where(values > 1, values * 2, values)
            data[name] = loc + scale * values
        letters = np.array(list("abcdefghij"))
        for i in range(CATEGORICAL):
            name = f"cat_{i:02d}"
            weights = 1.0 / np.arange(1, 11) ** (0.5 + 0.2 * i)
            if shifted and name == "cat_00":
                weights = weights[::-1]
            choices = letters
            if shifted and name == "cat_01":
                choices = np.append(letters[:-1], "k")  # "j" is gone, "k" never seen
            data[name] = rng.choice(choices, size=rows, p=weights / weights.sum())
        return pd.DataFrame(data)

    return table(False), table(True)


# ── the contenders, each run in its own process ──────────────────────────────────────
def run_mlcycle(ref: pd.DataFrame, cur: pd.DataFrame) -> set[str]:
    from mlcycle.monitor import drift, profile

    return set(drift(profile(ref), cur).drifted)


def run_scipy(ref: pd.DataFrame, cur: pd.DataFrame) -> set[str]:
    """What one writes by hand: ks_2samp per numeric column, chi-square per categorical one, α = 0.05."""
    from scipy import stats

    flagged = set()
    for column in ref.columns:
        if ref[column].dtype.kind == "f":
            if stats.ks_2samp(ref[column].to_numpy(), cur[column].to_numpy()).pvalue < 0.05:
                flagged.add(column)
        else:
            table = pd.crosstab(
                np.r_[np.zeros(len(ref)), np.ones(len(cur))],
                np.r_[ref[column].to_numpy(), cur[column].to_numpy()],
            )
            if stats.chi2_contingency(table.to_numpy())[1] < 0.05:
                flagged.add(column)
    return flagged


def run_scipy_psi(ref: pd.DataFrame, cur: pd.DataFrame) -> set[str]:
    """PSI per column on ten quantile bins of the reference (categories for text), alert at 0.1."""
    flagged = set()
    for column in ref.columns:
        if ref[column].dtype.kind == "f":
            edges = np.quantile(ref[column], np.linspace(0, 1, 11)[1:-1])
            a = np.bincount(np.searchsorted(edges, ref[column]), minlength=10) / len(ref)
            b = np.bincount(np.searchsorted(edges, cur[column]), minlength=10) / len(cur)
        else:
            share = (
                pd.concat(
                    [ref[column].value_counts(normalize=True), cur[column].value_counts(normalize=True)],
                    axis=1,
                )
                .fillna(0)
                .to_numpy()
            )
            a, b = share[:, 0], share[:, 1]
        a, b = np.clip(a, 1e-4, None), np.clip(b, 1e-4, None)
        if np.sum((b - a) * np.log(b / a)) > 0.1:
            flagged.add(column)
    return flagged


def run_evidently(ref: pd.DataFrame, cur: pd.DataFrame, method: str | None) -> set[str]:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    preset = DataDriftPreset() if method is None else DataDriftPreset(num_method="ks", cat_method="chisquare")
    snapshot = Report([preset]).run(current_data=cur, reference_data=ref)
    flagged = set()
    for metric in snapshot.dict()["metrics"]:
        config, value = metric["config"], metric["value"]
        if not config["type"].endswith("ValueDrift"):
            continue
        method = config["method"].lower()
        p_value = method in ("ks", "chisquare", "z") or "p_value" in method  # a test: drift when p < threshold
        if (value < config["threshold"]) if p_value else (value >= config["threshold"]):
            flagged.add(config["column"])
    return flagged


def child(which: str, folder: Path) -> None:
    """Entry point of one contender's process: load, time, report as JSON on stdout."""
    ref = pd.read_parquet(folder / "reference.parquet")
    cur = pd.read_parquet(folder / "current.parquet")
    if which.startswith("evidently"):  # imports are not what is measured
        import evidently.presets  # noqa: F401
    elif which == "mlcycle":
        import mlcycle.monitor  # noqa: F401
    import scipy.stats  # noqa: F401

    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    if which == "mlcycle":
        flagged = run_mlcycle(ref, cur)
    elif which == "scipy":
        flagged = run_scipy(ref, cur)
    elif which == "scipy-psi":
        flagged = run_scipy_psi(ref, cur)
    else:
        flagged = run_evidently(ref, cur, None if which == "evidently" else "ks")
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_mib": peak / 1024,
                "loaded_mib": loaded / 1024,
                "flagged": sorted(flagged),
            }
        )
    )


def evidently_python() -> Path:
    python = EVIDENTLY_ENV / "bin" / "python"
    if not python.exists():
        print("creating bench/.venv-evidently (evidently 0.7.23, pandas < 3) — once")
        subprocess.run([sys.executable, "-m", "venv", str(EVIDENTLY_ENV)], check=True)
        subprocess.run(
            [
                str(EVIDENTLY_ENV / "bin" / "pip"),
                "install",
                "-q",
                "evidently==0.7.23",
                "pandas<3",
                "pyarrow",
                "scipy",
            ],
            check=True,
        )
    return python


def measure(which: str, folder: Path) -> dict:
    python = evidently_python() if which.startswith("evidently") else Path(sys.executable)
    answer = subprocess.run(
        [str(python), __file__, "--child", which, "--folder", str(folder)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    if answer.returncode != 0:
        raise RuntimeError(f"{which} failed:\n{answer.stderr[-3000:]}")
    return json.loads(answer.stdout.strip().splitlines()[-1])


def wide(rows: int, columns: int, chunk: int) -> None:
    """3M × 1,000 streamed: generate chunks, fold them into two ProfileBuilders, compare the profiles."""
    from mlcycle.data.reference import ProfileBuilder
    from mlcycle.monitor import drift

    rng = np.random.default_rng(1)
    names = [f"x{i:04d}" for i in range(columns)]
    shifted = {names[0]: 0.25, names[1]: 0.5}
    generate = process = 0.0
    profiles = []
    for current in (False, True):
        builder = ProfileBuilder()
        for start in range(0, rows, chunk):
            t0 = time.perf_counter()
            block = rng.standard_normal((min(chunk, rows - start), columns), dtype=np.float32)
            if current:
                for j, (_name, by) in enumerate(shifted.items()):
                    block[:, j] += by
            t1 = time.perf_counter()
            builder.update_array(block, names)
            process += time.perf_counter() - t1
            generate += t1 - t0
        profiles.append(builder.result())
    t0 = time.perf_counter()
    report = drift(profiles[0], profiles[1])
    process += time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    flagged = set(report.drifted)
    print(
        f"\nwide: {rows:,} rows × {columns:,} columns ({rows * columns * 8 / 1e9:.0f} GB as float64), chunks of "
        f"{chunk:,} rows, streamed twice (reference and current)"
    )
    print(f"  mlcycle profile + drift {process:7.1f} s   (generating the random data: {generate:.1f} s)")
    print(
        f"  peak memory {peak:,.0f} MiB; flagged {sorted(flagged & set(shifted))} of the shifted "
        f"{sorted(shifted)}; false alarms {len(flagged - set(shifted))} of {columns - len(shifted)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--wide", action="store_true", help="also 3,000,000 × 1,000 streamed, mlcycle alone")
    parser.add_argument("--wide-rows", type=int, default=3_000_000)
    parser.add_argument("--wide-columns", type=int, default=1_000)
    parser.add_argument("--skip-evidently", action="store_true")
    parser.add_argument("--child")
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.folder)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ref, cur = frames(args.rows)
        ref.to_parquet(folder / "reference.parquet")
        cur.to_parquet(folder / "current.parquet")
        del ref, cur
        contenders = ["mlcycle", "scipy", "scipy-psi"]
        if not args.skip_evidently:
            contenders += ["evidently", "evidently-ks"]
        results = {name: measure(name, folder) for name in contenders}
    columns = NUMERIC + CATEGORICAL
    print(
        f"{args.rows:,} rows × {NUMERIC} numeric + {CATEGORICAL} categorical; shifted: "
        + ", ".join(f"{c} ({how})" for c, how in SHIFTED.items())
    )
    print(f"{'contender':<38}{'seconds':>9}{'× mlcycle':>11}{'own MiB':>9}{'found':>7}{'false alarms':>14}")
    labels = {
        "mlcycle": "mlcycle profile + drift (defaults)",
        "scipy": "scipy per column (KS, chi², α 0.05)",
        "scipy-psi": "numpy PSI per column (> 0.1)",
        "evidently": "Evidently 0.7.23 DataDriftPreset",
        "evidently-ks": "Evidently preset forced to KS + chi²",
    }
    base = results["mlcycle"]["seconds"]
    for name, r in results.items():
        flagged = set(r["flagged"])
        print(
            f"{labels[name]:<38}{r['seconds']:>9.2f}{r['seconds'] / base:>10.1f}×"
            f"{r['peak_mib'] - r['loaded_mib']:>9,.0f}"
            f"{len(flagged & set(SHIFTED)):>5}/{len(SHIFTED)}{len(flagged - set(SHIFTED)):>8}/{columns - len(SHIFTED)}"
        )
    print(
        "own MiB: peak memory of the contender's process above what it held once the frames were loaded "
        "(and its libraries imported); times exclude loading and imports."
    )
    if args.wide:
        wide(args.wide_rows, args.wide_columns, 20_000)


if __name__ == "__main__":
    main()
