"""Drift statistics against scipy and straightforward reference implementations; no false alarms on
identical distributions; alerts on crafted shifts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from mlcycle.data.reference import profile
from mlcycle.exceptions import DesignError
from mlcycle.metrics.statistics import REGISTRY, get, ks_raw
from mlcycle.monitor import drift


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"x": rng.normal(10, 2, 50_000), "c": rng.choice(["a", "b", "c"], 50_000, p=[0.5, 0.3, 0.2])})


def test_ks_on_raw_data_is_scipys() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, 3000), rng.normal(0.1, 1, 2000)
    expected = stats.ks_2samp(a, b)
    measured = ks_raw(a, b)
    assert measured.value == pytest.approx(expected.statistic, abs=1e-9)
    assert measured.p_value == pytest.approx(expected.pvalue, abs=1e-9)


def test_ks_from_the_profile_is_within_a_percentile_of_scipy(reference: pd.DataFrame) -> None:
    current = np.random.default_rng(2).normal(10.5, 2, 30_000)
    from_profile = REGISTRY["ks"].compute(profile(reference).columns["x"], current)
    exact = stats.ks_2samp(reference["x"], current).statistic
    assert from_profile.value == pytest.approx(exact, abs=0.01)


def test_psi_matches_a_straightforward_implementation(reference: pd.DataFrame) -> None:
    current = np.random.default_rng(3).normal(10.5, 2.2, 20_000)
    ref = profile(reference).columns["x"]
    edges = [-np.inf, *ref.edges, np.inf]  # type: ignore[misc]
    psi = 0.0
    for i in range(len(edges) - 1):
        r = max(ref.shares[i], 1e-4)  # type: ignore[index]
        c = max(np.mean((current >= edges[i]) & (current < edges[i + 1])), 1e-4)
        psi += (c - r) * np.log(c / r)
    assert REGISTRY["psi"].compute(ref, current).value == pytest.approx(psi, rel=1e-9)


def test_jensen_shannon_matches_its_definition(reference: pd.DataFrame) -> None:
    current = np.random.default_rng(4).choice(["a", "b", "c"], 10_000, p=[0.3, 0.3, 0.4]).astype(object)
    ref = profile(reference).columns["c"]
    shares = dict(zip(ref.categories, ref.shares))  # type: ignore[arg-type]
    p = np.array([shares["a"], shares["b"], shares["c"], 0.0])
    q = np.array([np.mean(current == k) for k in ("a", "b", "c")] + [0.0])
    m = (p + q) / 2
    kl = lambda x, y: np.sum(np.where(x > 0, x * np.log2(np.where(x > 0, x, 1) / y), 0))  # noqa: E731
    by_hand = np.sqrt((kl(p, m) + kl(q, m)) / 2)
    assert REGISTRY["jensen_shannon"].compute(ref, current).value == pytest.approx(by_hand, abs=1e-12)
    assert by_hand == pytest.approx(jensenshannon(p, q, base=2), abs=1e-12)


def test_wasserstein_is_scipys_distance_over_the_reference_spread(reference: pd.DataFrame) -> None:
    current = np.random.default_rng(5).normal(10.6, 2, 40_000)
    exact = stats.wasserstein_distance(reference["x"], current) / reference["x"].std(ddof=0)
    measured = REGISTRY["wasserstein"].compute(profile(reference).columns["x"], current).value
    assert measured == pytest.approx(exact, rel=0.05)
    assert measured == pytest.approx(0.3, abs=0.02)  # a 0.3σ shift reads as 0.3


def test_no_alert_on_identical_distributions_over_many_seeds(reference: pd.DataFrame) -> None:
    """False-alarm rate of the defaults on same-distribution windows of 2,000 rows: 0 in 100."""
    ref = profile(reference)
    alarms = 0
    for seed in range(100):
        rng = np.random.default_rng(100 + seed)
        window = pd.DataFrame({"x": rng.normal(10, 2, 2000), "c": rng.choice(["a", "b", "c"], 2000, p=[0.5, 0.3, 0.2])})
        alarms += int(drift(ref, window).to_frame()["drifted"].sum())
    assert alarms == 0


@pytest.mark.parametrize(
    "window, column",
    [
        (lambda rng: pd.DataFrame({"x": rng.normal(10.5, 2, 5000)}), "x"),  # a 0.25σ mean shift
        (lambda rng: pd.DataFrame({"x": rng.normal(10, 3, 5000)}), "x"),  # a wider spread
        (
            lambda rng: pd.DataFrame({"c": rng.choice(["a", "b", "c"], 5000, p=[0.2, 0.3, 0.5])}),
            "c",
        ),  # a new mix
        (
            lambda rng: pd.DataFrame({"c": rng.choice(["a", "b", "z"], 5000, p=[0.4, 0.3, 0.3])}),
            "c",
        ),  # a new category
    ],
)
def test_crafted_shifts_alert(reference: pd.DataFrame, window, column: str) -> None:  # type: ignore[no-untyped-def]
    report = drift(profile(reference), window(np.random.default_rng(7)))
    assert report.drifted == [column]


def test_report_frame_overrides_and_errors(reference: pd.DataFrame) -> None:
    ref = profile(reference)
    current = pd.DataFrame({"x": np.random.default_rng(8).normal(10.3, 2, 5000), "c": ["a"] * 5000})
    frame = drift(ref, current).to_frame()
    assert list(frame.columns) == ["column", "statistic", "value", "threshold", "drifted"]
    assert frame["drifted"].dtype == bool and list(frame["statistic"]) == ["wasserstein", "jensen_shannon"]
    relaxed = drift(ref, current, per_feature={"x": {"alert": 0.5}}).to_frame().set_index("column")
    assert relaxed.loc["x", "threshold"] == 0.5 and not relaxed.loc["x", "drifted"]
    assert set(drift(ref, current, statistic="psi").to_frame()["statistic"]) == {"psi"}
    with pytest.raises(DesignError, match="wasserstein is for numeric columns"):
        get("wasserstein", "categorical")
    empty = drift(ref, pd.DataFrame({"x": [np.nan, np.nan]})).details()
    assert empty.loc[0, "level"] == "no data" and not empty.loc[0, "drifted"]


def test_profile_round_trips_through_json(reference: pd.DataFrame, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from mlcycle.monitor import Profile

    ref = profile(reference)
    ref.save(tmp_path / "p.json")
    again = Profile.load(tmp_path / "p.json")
    current = pd.DataFrame({"x": np.random.default_rng(9).normal(11, 2, 1000), "c": ["b"] * 1000})
    pd.testing.assert_frame_equal(drift(ref, current).to_frame(), drift(again, current).to_frame())


def test_profile_quantiles_are_numpys(reference: pd.DataFrame) -> None:
    """One sort per column gives exactly what np.quantile gives (linear interpolation)."""
    column = profile(reference).columns["x"]
    expected = np.quantile(reference["x"], np.linspace(0.01, 0.99, 99))
    np.testing.assert_allclose(column.quantiles, expected, rtol=0, atol=1e-12)
    edges = np.quantile(reference["x"], np.linspace(0, 1, 11)[1:-1])
    np.testing.assert_allclose(column.edges, edges, rtol=0, atol=1e-12)
    counts = np.bincount(np.searchsorted(edges, reference["x"], side="right"), minlength=10)
    np.testing.assert_allclose(column.shares, counts / len(reference), atol=1e-12)


def test_integer_ties_fall_in_the_bin_above_their_edge() -> None:
    ref = profile(pd.DataFrame({"n": np.repeat(np.arange(10), 100)})).columns["n"]
    shares = REGISTRY["psi"].compute(ref, np.repeat(np.arange(10), 100).astype(float))
    assert shares.value == pytest.approx(0.0, abs=1e-12)  # the same data reads as no drift, ties and all


@pytest.mark.parametrize("chunk", [997, 20_000])
def test_streamed_profile_matches_the_in_memory_one(reference: pd.DataFrame, chunk: int) -> None:
    from mlcycle.data.reference import ProfileBuilder

    rng = np.random.default_rng(11)
    current = pd.DataFrame(
        {"x": rng.normal(10.5, 2.4, 50_000), "c": rng.choice(["a", "b", "z"], 50_000, p=[0.4, 0.4, 0.2])}
    )
    current.loc[::50, "x"] = np.nan
    streamed: dict[str, ProfileBuilder] = {"ref": ProfileBuilder(), "cur": ProfileBuilder()}
    for name, frame in (("ref", reference), ("cur", current)):
        for start in range(0, len(frame), chunk):
            streamed[name].update(frame.iloc[start : start + chunk])
    ref, cur = streamed["ref"].result(), streamed["cur"].result()
    exact = profile(reference)
    assert ref.columns["x"].count == exact.columns["x"].count and ref.columns["c"].shares == exact.columns["c"].shares
    assert cur.columns["x"].missing == 1000
    assert ref.columns["x"].mean == pytest.approx(exact.columns["x"].mean, rel=1e-12)
    assert ref.columns["x"].std == pytest.approx(exact.columns["x"].std, rel=1e-9)
    spread = exact.columns["x"].maximum - exact.columns["x"].minimum
    np.testing.assert_allclose(ref.columns["x"].quantiles, exact.columns["x"].quantiles, atol=spread / 1000)
    choices: list[dict[str, str]] = [
        {"numeric": "wasserstein"},
        {"numeric": "ks"},
        {"statistic": "psi"},
        {"statistic": "jensen_shannon"},
        {"categorical": "chi2"},
    ]
    for options in choices:
        in_memory = drift(exact, current, **options).to_frame().set_index("column")
        from_profiles = drift(ref, cur, **options).to_frame().set_index("column")
        np.testing.assert_allclose(from_profiles["value"], in_memory["value"], atol=0.01)
        assert list(from_profiles["drifted"]) == list(in_memory["drifted"])
