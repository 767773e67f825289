"""Statistics of the ratings: Krippendorff's alpha against Krippendorff's published example,
bootstrap intervals that cover, Bradley-Terry at its maximum likelihood, the report.

    nice -n 19 .venv/bin/python -m pytest tests/test_ratings_stats.py -q
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from reasoningrec.ratings.report import build_report, report_figure, report_markdown
from reasoningrec.ratings.stats import (alpha_from_matrix, bootstrap_mean, bradley_terry,
                                        careless_raters, counted_votes, krippendorff_alpha)

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: four observers
# by twelve units, values 1-5, "." = missing. The paper gives alpha for this matrix as
# nominal .743, ordinal .815, interval .849 and ratio .797.
_ = None
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, _, _, _],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _, 3],
    [_, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _],
]


@pytest.mark.parametrize("level, published", [("ordinal", 0.815), ("nominal", 0.743),
                                              ("interval", 0.849), ("ratio", 0.797)])
def test_alpha_matches_krippendorffs_published_example(level, published):
    assert round(alpha_from_matrix(KRIPPENDORFF_2011, level), 3) == published


def test_alpha_agrees_with_the_krippendorff_package_on_random_ordinal_data():
    krippendorff = pytest.importorskip("krippendorff")   # requirements-dev.txt
    rng = np.random.default_rng(7)
    for _ in range(20):
        truth = rng.integers(1, 6, size=30)
        data = np.clip(truth + rng.integers(-1, 2, size=(5, 30)), 1, 5).astype(float)
        data[rng.random(data.shape) < 0.3] = np.nan
        ours = alpha_from_matrix(data.tolist(), "ordinal")
        theirs = krippendorff.alpha(reliability_data=data, level_of_measurement="ordinal")
        assert ours == pytest.approx(theirs, abs=1e-9)


def test_alpha_edge_cases():
    assert krippendorff_alpha([[3], [4]]) is None              # nothing pairable
    assert krippendorff_alpha([[2, 2], [2, 2, 2]]) is None     # no variation at all
    assert krippendorff_alpha([[1, 1], [5, 5], [3, 3]]) == 1.0  # perfect agreement
    with pytest.raises(ValueError, match="level of measurement"):
        krippendorff_alpha([[1, 2], [2, 3]], "cardinal")


def test_bootstrap_interval_covers_the_true_mean():
    """95% percentile intervals for a Bernoulli(0.3) mean, n=120: coverage near 95%, width near
    the normal approximation 2 * 1.96 * sqrt(p(1-p)/n)."""
    rng = np.random.default_rng(0)
    hits, widths = 0, []
    for k in range(300):
        values = rng.random(120) < 0.3
        _, lo, hi = bootstrap_mean(values, n_boot=400, seed=k)
        hits += lo <= 0.3 <= hi
        widths.append(hi - lo)
    assert 0.90 <= hits / 300 <= 0.985
    assert np.mean(widths) == pytest.approx(2 * 1.96 * math.sqrt(0.3 * 0.7 / 120), rel=0.08)


def test_cluster_bootstrap_does_not_count_copies_as_evidence():
    rng = np.random.default_rng(1)
    values = rng.random(60) < 0.5
    copies = np.repeat(values, 5)                    # every sample voted 5 times, identically
    _, lo1, hi1 = bootstrap_mean(values, n_boot=2000, seed=3)
    _, lo5, hi5 = bootstrap_mean(copies, clusters=np.repeat(np.arange(60), 5), n_boot=2000, seed=3)
    _, lo_naive, hi_naive = bootstrap_mean(copies, n_boot=2000, seed=3)
    assert hi5 - lo5 == pytest.approx(hi1 - lo1, rel=0.1)
    assert hi_naive - lo_naive < 0.6 * (hi5 - lo5)    # treating copies as votes is overconfident
    assert all(math.isnan(x) for x in bootstrap_mean([]))


def test_bradley_terry_is_the_maximum_likelihood_fit():
    games = ([("a", "b", 1.0)] * 7 + [("a", "b", 0.0)] * 3 + [("b", "c", 1.0)] * 6
             + [("b", "c", 0.0)] * 4 + [("a", "c", 1.0)] * 8 + [("a", "c", 0.0)] * 2
             + [("c", "a", 0.5)] * 2)
    scores = bradley_terry(games)
    p = {s: math.exp(v) for s, v in scores.items()}
    wins, expected = {s: 0.0 for s in p}, {s: 0.0 for s in p}
    for a, b, score in games:     # the likelihood equations: observed = expected wins
        wins[a] += score
        wins[b] += 1 - score
        expected[a] += p[a] / (p[a] + p[b])
        expected[b] += p[b] / (p[a] + p[b])
    for s in p:
        assert wins[s] == pytest.approx(expected[s], abs=1e-6)
    assert sum(scores.values()) == pytest.approx(0, abs=1e-9) and scores["a"] > scores["b"] > scores["c"]
    two = bradley_terry([("x", "y", 1.0)] * 6 + [("x", "y", 0.0)] * 2)   # closed form: ln(6/2)
    assert two["x"] - two["y"] == pytest.approx(math.log(3), abs=1e-6)


def test_bradley_terry_recovers_simulated_strengths():
    rng = np.random.default_rng(5)
    truth = {"t": 1.0, "s1": 0.0, "s2": -0.5, "s3": 0.4}
    names = list(truth)
    games = []
    for _ in range(6000):
        a, b = rng.choice(names, 2, replace=False)
        p_a = 1 / (1 + math.exp(truth[b] - truth[a]))
        games.append((a, b, float(rng.random() < p_a)))
    fit = bradley_terry(games, prior=0.5)
    mean = sum(truth.values()) / len(truth)
    for s in names:
        assert fit[s] == pytest.approx(truth[s] - mean, abs=0.12)


def vote(rater, sample, mode="blind", choice="A", roles=("teacher", "student"), systems=None,
         scores=(4, 4, 4, 2, 2, 2), failed=None):
    systems = systems or ("T", "S")
    row = {"rater_id": rater, "rater_kind": "anon", "sample_id": sample, "mode": mode,
           "choice": choice, "attention_failed": failed}
    for k, side in enumerate("ab"):
        row.update({f"role_{side}": roles[k], f"system_{side}": systems[k], f"version_{side}": "v1"})
        for n, c in enumerate(("plausibility", "faithfulness", "helpfulness")):
            row[f"{c}_{side}"] = scores[3 * k + n]
    return row


def test_careless_raters_are_excluded_but_counted():
    rows = [vote("good", "s1"), vote("good", "c1", "attention", failed=0),
            vote("sloppy", "s1", choice="B"), vote("sloppy", "c1", "attention", failed=1),
            vote("once", "s2"), vote("once", "c1", "attention", failed=1),
            vote("once", "c2", "attention", failed=0), vote("once", "c3", "attention", failed=0)]
    assert careless_raters(rows) == {"sloppy"}          # "once" failed 1 of 3: under half
    assert [(r["rater_id"], r["sample_id"]) for r in counted_votes(rows)] == [("good", "s1"), ("once", "s2")]
    report = build_report(rows, n_boot=200)
    assert report["votes"]["excluded_careless"] == 1 and report["raters"]["careless"] == 1
    assert report["votes"]["counted"] == 2 and report["votes"]["failed_checks"] == 2


def test_report_win_rates_likert_alpha_and_bradley_terry(tmp_path):
    rng = np.random.default_rng(2)
    rows = []
    for n in range(40):
        for r in range(3):
            swap = rng.random() < 0.5
            choice = rng.choice(["A", "B", "tie", "both_bad"], p=[0.6, 0.2, 0.1, 0.1])
            roles, systems = ((("student", "teacher"), ("S", "T")) if swap
                              else (("teacher", "student"), ("T", "S")))
            rows.append(vote(f"r{r}", f"s{n}", choice=choice, roles=roles, systems=systems,
                             scores=tuple(int(x) for x in rng.integers(1, 6, 6))))
    report = build_report(rows, n_boot=300)
    pair = report["pairs"][0]
    assert (pair["x"], pair["y"]) == ("student: S", "teacher: T")
    direct = [1.0 if (r["choice"] == "A") == (r["role_a"] == "student") else 0.0
              for r in rows if r["choice"] in "AB"] + [0.5] * pair["ties"]
    assert pair["x_win_rate"] == pytest.approx(np.mean(direct), abs=1e-3)
    assert pair["ci"][0] < pair["x_win_rate"] < pair["ci"][1]
    assert pair["x_wins"] + pair["y_wins"] + pair["ties"] + pair["both_bad"] == pair["votes"] == 120
    assert report["bradley_terry"] is None                     # two systems: win rate says it all
    assert report["alpha"]["faithfulness"]["units"] == 80     # 40 samples x 2 texts, 3 raters each
    assert -0.3 < report["alpha"]["faithfulness"]["alpha"] < 0.3   # random scores: no agreement
    likert = report["likert"]["plausibility"]["teacher: T"]
    assert likert["n"] == 120 and likert["ci"][0] <= likert["mean"] <= likert["ci"][1]
    rows.append(vote("r0", "s0", roles=("teacher", "student"), systems=("T", "S2"), mode="blind"))
    rows[-1]["sample_id"] = "s-new"
    three = build_report(rows, n_boot=100)
    assert set(three["bradley_terry"]) == {"teacher: T", "student: S", "student: S2"}
    assert "Bradley–Terry" in report_markdown(three) and "Krippendorff" in report_markdown(three)
    report_figure(three).savefig(tmp_path / "plot.png")
    assert (tmp_path / "plot.png").stat().st_size > 10_000
