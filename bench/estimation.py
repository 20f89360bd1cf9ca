"""Estimated vs realised, and alerts before vs after calibrated thresholds — with NannyML in the same run.

    .venv/bin/python bench/estimation.py                  # the example replay + a classification case
    .venv/bin/python bench/estimation.py --trials 10      # a quicker search
    .venv/bin/python bench/estimation.py --no-nannyml     # mlcycle alone

1. **The bundled example (regression, DLE).** The example is designed, searched, promoted and its
   Sep–Dec 2011 replayed through the service, as in ``make demo``; then each weekly window's figures
   estimated *without* its actuals are set against the realised ones: mean absolute error of the
   estimate, and how often the 90 % interval held the truth (target ≥ 85 %). NannyML's DLE is fitted on
   the very same reference (the promoted trial's out-of-fold predictions, ``gate.out_of_fold``) and
   estimates MAE on the same weeks; its interval here is ± 1.645 × its sampling error (90 %; its own
   confidence band is ± 3).
2. **Alerts on the example, before and after.** The served workspace is copied before monitoring, and
   monitored three times: drift thresholds fixed at 0.05 / 0.1 (as the example had them), ``auto``
   (now), and ``auto`` with ``consecutive: 2``. Counted: alerts raised, drift alerts among them, and
   the review's verdict and reasons.
3. **A classification zoo case with an injected shift (CBPE).** ``fraud-rare`` from the test zoo: 12
   windows of 400 fresh transactions, the last six shifted (larger amounts, more web traffic: more fraud,
   and the model less sure). Estimated vs realised ROC AUC, precision, recall and money, by mlcycle's CBPE
   and NannyML's CBPE fitted on the same out-of-fold reference.

NannyML runs from its own environment, ``bench/.venv-nannyml`` (``nannyml==0.13.1`` from the package
registry), created on first use; it is never a dependency of mlcycle. Everything is seeded.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NANNYML_ENV = HERE / ".venv-nannyml"
Z90 = 1.6449  # a 90 % two-sided normal interval


# ── helpers ──────────────────────────────────────────────────────────────────────────
def nannyml_python() -> Path | None:
    python = NANNYML_ENV / "bin" / "python"
    if not python.exists():
        print("creating bench/.venv-nannyml (nannyml 0.13.1) — once")
        try:
            subprocess.run([sys.executable, "-m", "venv", str(NANNYML_ENV)], check=True)
            subprocess.run(
                [str(NANNYML_ENV / "bin" / "pip"), "install", "-q", "nannyml==0.13.1", "statsmodels", "pyarrow"],
                check=True,
            )
        except subprocess.CalledProcessError as failed:
            print(f"NannyML did not install from the package registry ({failed}); mlcycle alone")
            return None
    return python


NANNY_SCRIPT = r"""
import json, sys, warnings
import numpy as np, pandas as pd
import nannyml as nml
warnings.filterwarnings("ignore")
job = json.load(open(sys.argv[1]))
reference = pd.read_parquet(job["reference"])
analysis = pd.read_parquet(job["analysis"])
if job["kind"] == "dle":
    estimator = nml.DLE(feature_column_names=job["features"], y_pred="y_pred", y_true="y_true", metrics=["mae"],
                        **job.get("chunking", {}))
else:
    estimator = nml.CBPE(metrics=["roc_auc", "precision", "recall", "business_value"], y_pred_proba="y_pred_proba",
                         y_pred="y_pred", y_true="y_true", problem_type="classification_binary",
                         business_value_matrix=job["business_value_matrix"], **job.get("chunking", {}))
estimator.fit(reference)
result = estimator.estimate(analysis).filter(period="analysis").to_df()
out = []
for _, row in result.iterrows():
    item = {"start": str(row[("chunk", "start_date")]) if ("chunk", "start_date") in row.index else None}
    for metric in job["metrics"]:
        value, error = float(row[(metric, "value")]), float(row[(metric, "sampling_error")])
        item[metric] = {"value": value, "sampling_error": error}
    out.append(item)
json.dump(out, open(job["output"], "w"))
"""


def run_nannyml(python: Path, job: dict[str, Any], folder: Path) -> list[dict[str, Any]]:
    script = folder / "nanny.py"
    script.write_text(NANNY_SCRIPT, encoding="utf-8")
    job_path = folder / f"{job['kind']}.json"
    job["output"] = str(folder / f"{job['kind']}-out.json")
    job_path.write_text(json.dumps(job), encoding="utf-8")
    started = time.perf_counter()
    subprocess.run([str(python), str(script), str(job_path)], check=True)
    print(f"  NannyML {job['kind'].upper()} fit + estimate: {time.perf_counter() - started:.1f} s (own process)")
    return json.loads(Path(job["output"]).read_text(encoding="utf-8"))


def table(rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")


def covered(low: float, high: float, truth: float) -> bool:
    return low <= truth <= high


# ── 1 and 2: the example ─────────────────────────────────────────────────────────────
def example(folder: Path, trials: int, python: Path | None) -> None:
    from rich.console import Console

    import mlcycle
    from mlcycle.demo import replay_served
    from mlcycle.develop import gate
    from mlcycle.develop.tracking import Tracker
    from mlcycle.store import open_store

    quiet = Console(file=io.StringIO())  # the replay's own progress is not the bench's
    uc = mlcycle.init(folder / "auto", example="sales")
    uc.design()
    uc.experiment(trials=trials, report=False)
    uc.promote()
    started = time.perf_counter()
    replay_served(uc, quiet)
    print(
        f"example: searched {trials} trials, promoted, replayed Sep–Dec 2011 in {time.perf_counter() - started:.0f} s"
    )

    # 2. alerts: three copies of the served workspace, monitored under three designs
    copies = {"fixed 0.05 / 0.1": folder / "fixed", "auto + consecutive: 2": folder / "persistent"}
    for copy in copies.values():
        shutil.copytree(uc.folder, copy)
    edits = {
        "fixed 0.05 / 0.1": lambda d: d["monitoring"]["drift"].update(warn=0.05, alert=0.1),
        "auto + consecutive: 2": lambda d: d["monitoring"]["drift"].update(consecutive=2),
    }
    import yaml

    runs: dict[str, Any] = {"auto (now)": uc}
    for name, copy in copies.items():
        design = yaml.safe_load((copy / "mlcycle.yaml").read_text(encoding="utf-8"))
        edits[name](design)
        (copy / "mlcycle.yaml").write_text(yaml.safe_dump(design, sort_keys=False), encoding="utf-8")
        runs[name] = mlcycle.UseCase.load(copy)
    rows = []
    windows_by_run = {}
    for name in ("fixed 0.05 / 0.1", "auto (now)", "auto + consecutive: 2"):
        run = runs[name]
        windows = run.monitor_windows(since="2011-08-29")
        windows_by_run[name] = windows
        raised = [e for w in windows for e in w.alerts.raised]
        drift = [e for e in raised if e["rule"] == "drift"]
        review = run.review()
        rows.append(
            [
                name,
                str(len(raised)),
                str(len(drift)),
                ", ".join(sorted({e["subject"] for e in drift})) or "—",
                review.verdict,
                "; ".join(r.split(":")[0] for r in review.reasons[:-1]) or review.reasons[0][:60],
            ]
        )
    print("\nAlerts on the example's 15 served weeks (version 1)")
    table(rows, ["thresholds", "alerts", "drift alerts", "drifted columns alerted", "review", "acted on"])

    # 1. estimated vs realised, week by week
    windows = windows_by_run["auto (now)"]
    ours = []
    for w in windows:
        est = w.performance.estimated or {}
        check = est.get("check") or {}
        for name in ("mae", "net_value"):
            if name in check and name in est.get("intervals", {}):
                spread = est["intervals"][name]
                truth = check[name]["realised"]
                ours.append((w.start, name, est["figures"][name], truth, covered(spread["low"], spread["high"], truth)))
    frame = pd.DataFrame(ours, columns=["start", "figure", "estimated", "realised", "covered"])
    rows = []
    for name, part in frame.groupby("figure"):
        rows.append(
            [
                f"mlcycle DLE — {name}",
                f"{len(part)}",
                f"{(part['estimated'] - part['realised']).abs().mean():,.1f}",
                f"{part['realised'].abs().mean():,.1f}",
                f"{part['covered'].mean():.0%}",
            ]
        )
    if python is not None:
        rows += nanny_dle(python, uc, gate, Tracker, open_store, folder, windows)
    print("\nEstimated without actuals vs realised, per weekly window of the example (1,700 served predictions)")
    table(
        rows,
        ["estimator — figure", "windows", "mean |estimate − realised|", "mean |realised|", "90 % interval held it"],
    )


def nanny_dle(python: Path, uc: Any, gate: Any, Tracker: Any, open_store: Any, folder: Path, windows: list) -> list:
    from mlcycle.monitor.performance import labelled_predictions

    tracker = Tracker(uc.state_dir, uc.name)
    runs = tracker.client.search_runs([tracker.experiment_id], "tags.`mlcycle.kind` = 'promotion'")
    chosen = gate.candidate(tracker, runs[-1].data.tags["mlcycle.source_run"])
    reference = gate.out_of_fold(uc.workspace, chosen)

    def features(inputs: pd.DataFrame, times: pd.Series) -> pd.DataFrame:
        stamps = pd.to_datetime(times).reset_index(drop=True)
        return pd.DataFrame(
            {
                "item": inputs["item"].astype(str).reset_index(drop=True).astype("category").cat.codes.astype(float),
                "price": pd.to_numeric(inputs["price"], errors="coerce").reset_index(drop=True),
                "month": stamps.dt.month.astype(float),
                "weekday": stamps.dt.day_of_week.astype(float),
            }
        )

    items = sorted(reference.inputs["item"].astype(str).unique())
    codes = {item: float(i) for i, item in enumerate(items)}
    ref = features(reference.inputs, reference.times).assign(
        item=reference.inputs["item"].astype(str).map(codes).to_numpy()
    )
    ref = ref.assign(y_pred=reference.prediction, y_true=reference.actual)
    store = open_store(uc.state_dir)
    served = labelled_predictions(uc.workspace, store, windows[0].start, windows[-1].end, by="event")
    served = served[served["model_version"].astype(str) == "1"].sort_values("event_time").reset_index(drop=True)
    inputs = store.predictions.inputs(list(served["request_id"])).reindex(served["request_id"]).reset_index(drop=True)
    ana = features(inputs, served["event_time"]).assign(item=inputs["item"].astype(str).map(codes).to_numpy())
    ana = ana.assign(y_pred=served["output"].to_numpy(dtype=float), y_true=np.nan, timestamp=served["event_time"])
    truth = [
        float(np.abs(part["actual"] - part["output"]).mean())
        for part in (served[(served["event_time"] >= w.start) & (served["event_time"] < w.end)] for w in windows)
    ]
    # NannyML chunks by calendar week (pandas' W: Monday to Sunday), the monitoring windows' own grid
    ref = ref.assign(timestamp=pd.to_datetime(reference.times).reset_index(drop=True))
    ref.to_parquet(folder / "dle-ref.parquet")
    ana.to_parquet(folder / "dle-ana.parquet")
    out = run_nannyml(
        python,
        {
            "kind": "dle",
            "reference": str(folder / "dle-ref.parquet"),
            "analysis": str(folder / "dle-ana.parquet"),
            "features": ["item", "price", "month", "weekday"],
            "metrics": ["mae"],
            "chunking": {"timestamp_column_name": "timestamp", "chunk_period": "W"},
        },
        folder,
    )
    by_start = {pd.Timestamp(r["start"]).normalize(): r["mae"] for r in out if r["start"]}
    pairs = [(by_start.get(pd.Timestamp(w.start).normalize()), t) for w, t in zip(windows, truth)]
    results = [r for r, _ in pairs if r is not None]
    truth = [t for r, t in pairs if r is not None]
    errors = [abs(r["value"] - t) for r, t in zip(results, truth)]
    held = [
        covered(r["value"] - Z90 * r["sampling_error"], r["value"] + Z90 * r["sampling_error"], t)
        for r, t in zip(results, truth)
    ]
    band = [
        covered(r["value"] - 3 * r["sampling_error"], r["value"] + 3 * r["sampling_error"], t)
        for r, t in zip(results, truth)
    ]
    return [
        [
            "NannyML 0.13.1 DLE — mae",
            f"{len(results)}",
            f"{np.mean(errors):,.1f}",
            f"{np.mean(np.abs(truth)):,.1f}",
            f"{np.mean(held):.0%} (its ± 3σ band: {np.mean(band):.0%})",
        ]
    ]


# ── 3: classification with a shift ───────────────────────────────────────────────────
def classification(folder: Path, python: Path | None) -> None:
    import yaml

    import mlcycle
    from mlcycle.contract.spec import positive_mask
    from mlcycle.develop import gate, registry
    from mlcycle.develop.tracking import Tracker
    from mlcycle.metrics import catalogue
    from mlcycle.metrics.estimation import Estimator
    from mlcycle.monitor.performance import costs
    from mlcycle.monitor.shadow import load_version

    sys.path.insert(0, str(ROOT))
    from tests.usecases.cases import FRAUD, fraud_data

    place = folder / "fraud"
    (place / "data").mkdir(parents=True)
    FRAUD.data().to_csv(place / "data" / "transactions.csv", index=False)
    (place / "mlcycle.yaml").write_text(yaml.safe_dump(FRAUD.design, sort_keys=False), encoding="utf-8")
    uc = mlcycle.UseCase.load(place)
    result = uc.experiment(trials=FRAUD.trials, report=False)
    report = uc.promote(result.best_run_id)
    ws = uc.workspace
    tracker = Tracker(uc.state_dir, uc.name)
    estimator = Estimator.from_dict(registry.estimator(tracker, uc.name, str(report.version)))
    model = load_version(ws, str(report.version))
    views = catalogue.measured(uc.spec, uc.folder)
    money = costs(ws)
    print(f"\nfraud-rare: champion version {report.version}; {estimator.calibrated_by}")

    def window(seed: int, shifted: bool) -> pd.DataFrame:
        rows = fraud_data(400, seed=seed)
        if shifted:  # larger amounts and more web traffic: more fraud, in a region the reference saw little of
            rng = np.random.default_rng(seed)
            rows["montant €"] = np.round(rows["montant €"] * 2.5, 2)
            rows["channel"] = rng.choice(["web", "app", "pos"], len(rows), p=[0.7, 0.15, 0.15])
            logit = (
                -5.2
                + 1.6 * (rows["montant €"] > 100)
                + 1.5 * (rows["days since signup"] < 60)
                + 0.8 * (rows["channel"] == "web")
                + 1.8 * rows["merchant"].isin([f"m{i:03d}" for i in range(0, 300, 15)])
            )
            rows["fraud"] = (rng.random(len(rows)) < 1 / (1 + np.exp(-logit))).astype(int)
            rows["rule_flag"] = (rows["montant €"] > 400).astype(int)
        return rows

    ours: list[dict[str, Any]] = []
    analysis = []
    for i in range(12):
        rows = window(100 + i, shifted=i >= 6)
        inputs = rows[model.input_columns]
        probability = model.predict_value(inputs)
        decided = (probability >= (model.threshold or 0.5)).astype(float)
        baseline = rows["rule_flag"].to_numpy(dtype=float)
        found = estimator.estimate(
            inputs=inputs, prediction=probability, baseline=baseline, costs=money, views=views, decided=decided
        )
        actual = positive_mask(uc.spec, rows["fraud"]).to_numpy(dtype=float)
        truth = catalogue.evaluate(
            catalogue.Scored(actual, decided, money, y_score=probability, baseline_pred=baseline), views
        )
        truth_flat = {k: v for view in truth.values() for k, v in view.items()}
        truth_flat["business_value"] = float(money.money_gained(actual, decided).sum())
        ours.append({"found": found, "truth": truth_flat, "shifted": i >= 6})
        analysis.append(pd.DataFrame({"y_pred_proba": probability, "y_pred": decided.astype(int), "y_true": np.nan}))
    names = ("roc_auc", "recall", "net_value")
    rows_out = []
    for shifted in (False, True):
        for name in names:
            part = [o for o in ours if o["shifted"] == shifted and name in o["found"].figures]
            if not part:
                continue
            errors = [abs(o["found"].figures[name] - o["truth"][name]) for o in part]
            held = [o["found"].intervals[name].covers(o["truth"][name]) for o in part if name in o["found"].intervals]
            scale = np.mean([abs(o["truth"][name]) for o in part])
            rows_out.append(
                [
                    f"mlcycle CBPE — {name}",
                    "shifted" if shifted else "as reference",
                    f"{np.mean(errors):,.3f}" if name != "net_value" else f"{np.mean(errors):,.0f}",
                    f"{np.mean(errors) / scale:.0%}",
                    f"{np.mean(held):.0%}",
                ]
            )
    if python is not None:
        reference = gate.out_of_fold(ws, gate.candidate(tracker, result.best_run_id))
        payoff = uc.spec.value.payoff
        assert payoff is not None
        ref = pd.DataFrame(
            {
                "y_pred_proba": reference.prediction,
                "y_pred": (reference.prediction >= (model.threshold or 0.5)).astype(int),
                "y_true": reference.actual.astype(int),
            }
        )
        ref.to_parquet(folder / "cbpe-ref.parquet")
        pd.concat(analysis, ignore_index=True).to_parquet(folder / "cbpe-ana.parquet")
        out = run_nannyml(
            python,
            {
                "kind": "cbpe",
                "reference": str(folder / "cbpe-ref.parquet"),
                "analysis": str(folder / "cbpe-ana.parquet"),
                "metrics": ["roc_auc", "recall", "business_value"],
                "business_value_matrix": [
                    [payoff.true_negative, payoff.false_positive],
                    [payoff.false_negative, payoff.true_positive],
                ],
                "chunking": {"chunk_size": 400},
            },
            folder,
        )
        for shifted in (False, True):
            for name in ("roc_auc", "recall", "business_value"):
                pairs = [(r[name], o["truth"][name]) for r, o in zip(out, ours) if o["shifted"] == shifted]
                errors = [abs(r["value"] - t) for r, t in pairs]
                held = [
                    covered(r["value"] - Z90 * r["sampling_error"], r["value"] + Z90 * r["sampling_error"], t)
                    for r, t in pairs
                ]
                scale = np.mean([abs(t) for _, t in pairs])
                rows_out.append(
                    [
                        f"NannyML CBPE — {name}",
                        "shifted" if shifted else "as reference",
                        f"{np.mean(errors):,.3f}" if name != "business_value" else f"{np.mean(errors):,.0f}",
                        f"{np.mean(errors) / scale:.0%}",
                        f"{np.mean(held):.0%}",
                    ]
                )
    print("\nfraud-rare: 12 windows of 400 transactions, 6 as the reference, 6 shifted; estimated vs realised")
    table(
        rows_out,
        [
            "estimator — figure",
            "windows",
            "mean |estimate − realised|",
            "… of mean |realised|",
            "90 % interval held it",
        ],
    )
    print(
        "net_value: mlcycle's added value per quarter against today's rule (EUR); business_value: NannyML's payoff "
        "sum over the window (EUR) — each against its own realised figure"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--no-nannyml", action="store_true")
    args = parser.parse_args()
    python = None if args.no_nannyml else nannyml_python()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        example(folder, args.trials, python)
        classification(folder, python)


if __name__ == "__main__":
    main()
