"""A long property-based run against the real service: schemathesis, every operation, every check.

    .venv/bin/python bench/fuzz.py [--examples 500] [--rounds 2] [--seed 1] [--folder DIR]

Builds the bundled example (a short search and the gate) unless ``--folder`` names a promoted use case,
serves it with ``mlcycle serve`` and an admin key, and runs schemathesis over the service's own OpenAPI
description with the settings of ``tests/deploy/schemathesis.toml`` (the bounded run of ``make test`` uses
the same, with fewer examples), once per round with the next seed. Prints the cases run, the failures
schemathesis found, and — counted by the server itself, from its Prometheus counters — the responses by
status class. Target: 0 responses ≥ 500 and 0 failures over ≥ 10,000 cases.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from tests.servers import failures, free_port, generated, schemathesis  # noqa: E402


def promoted_example(folder: Path) -> Path:
    if not (folder / "mlcycle.yaml").exists():
        subprocess.run([str(BIN / "mlcycle"), "init", str(folder)], check=True, capture_output=True)
    subprocess.run(
        [str(BIN / "mlcycle"), "experiment", "-u", str(folder), "--trials", "4"], check=True, capture_output=True
    )
    subprocess.run([str(BIN / "mlcycle"), "promote", "-u", str(folder)], check=True, capture_output=True)
    return folder


def admin_key(folder: Path) -> str:
    from mlcycle.store import open_store

    return open_store(folder / ".mlcycle").keys.create("admin", "bench/fuzz.py").secret


def by_status(port: int, secret: str) -> dict[str, float]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers={"X-API-Key": secret})
    with urllib.request.urlopen(request, timeout=30) as answer:
        text = answer.read().decode()
    counts: dict[str, float] = {}
    for line in text.splitlines():
        found = re.match(r'mlcycle_requests_total\{endpoint="[^"]*",status="(\d)\d\d"\} ([0-9.e+]+)', line)
        if found:
            counts[f"{found.group(1)}xx"] = counts.get(f"{found.group(1)}xx", 0) + float(found.group(2))
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=500, help="schemathesis --max-examples per operation")
    parser.add_argument("--rounds", type=int, default=2, help="runs, each with the next seed")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--folder", type=Path, help="a promoted use case (default: the example, built here)")
    args = parser.parse_args()
    folder = args.folder or promoted_example(Path(tempfile.mkdtemp(prefix="mlcycle-fuzz-")) / "uc")
    secret = admin_key(folder)
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "mlcycle"), "serve", "-u", str(folder), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.time() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    raise SystemExit("the service did not start") from None
                time.sleep(0.5)
        started = time.perf_counter()
        runs = [schemathesis(port, secret, args.examples, args.seed + i) for i in range(args.rounds)]
        seconds = time.perf_counter() - started
        counts = by_status(port, secret)
    finally:
        server.terminate()
        server.wait(timeout=60)
    cases = sum(generated(run.stdout) for run in runs)
    seeds = f"seeds {args.seed}…{args.seed + args.rounds - 1}"
    print(f"schemathesis, {args.examples} examples per operation, {seeds}: {cases:,} cases in {seconds:.0f} s")
    print("responses counted by the server: " + ", ".join(f"{k} {v:,.0f}" for k, v in sorted(counts.items())))
    failed = [run for run in runs if run.returncode != 0]
    print(f"responses >= 500: {counts.get('5xx', 0):,.0f} (target 0); rounds with failures: {len(failed)} (target 0)")
    for run in failed:
        print(failures(run.stdout))
