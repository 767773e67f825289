"""The Rate tab compares three real systems: Mixtral (the paper's teacher), the paper's 7B
student (Fashion) and our student, from the pool's stored texts. Pairs are balanced, each
vote records which system wrote each side, and the results rank the three (no model runs).

    .venv/bin/python -m pytest tests/test_ratings_systems.py -q
"""
from __future__ import annotations

import random
from collections import Counter

import pytest

from reasoningrec.demo_pool import DemoPool
from reasoningrec.ratings.config import RatingsSettings
from reasoningrec.ratings.desk import RatingDesk
from reasoningrec.ratings.payload import parse_vote
from reasoningrec.ratings.raters import rater_for
from reasoningrec.ratings.report import build_report, report_markdown
from reasoningrec.ratings.store import RatingsStore

SYSTEM_OF = {"teacher": "Mixtral-8x7B-Instruct", "authors": "Llama-2-7B-chat + LoRA"}


@pytest.fixture(scope="module")
def pool():
    return DemoPool.load()


def make_desk(tmp_path, pool) -> RatingDesk:
    settings = RatingsSettings(tmp_path, salt="t" * 40, min_read_s=0.0, attention_every=0,
                               rate_limit=(10_000, 600.0))
    return RatingDesk(RatingsStore.open(tmp_path), pool, settings, seed=1)


def rater(n: int):
    return rater_for(None, f"systems-rater-{n:03d}", "192.0.2.1", "t" * 40)


def vote(desk, who, choice, scores=(3, 3)):
    shown = desk.issue(who)
    table = {side: dict.fromkeys(("plausibility", "faithfulness", "helpfulness"), s)
             for side, s in zip("AB", scores)}
    return shown, desk.cast(parse_vote({"ticket": shown["ticket"], "choice": choice,
                                        "scores": table}), who)


def test_items_offer_the_systems_their_dataset_has(pool, tmp_path):
    desk = make_desk(tmp_path, pool)
    pairs = {name: {tuple(i.pairs()) for i in desk.items.values() if i.dataset == name}
             for name in pool.users}
    assert pairs["ml1m"] == {(("teacher", "student"),)}        # no 7B outputs released for ML-1M
    assert pairs["fashion"] == {(("teacher", "authors"), ("teacher", "student"),
                                 ("authors", "student"))}


def test_pairs_are_balanced_and_each_side_records_its_system(pool, tmp_path):
    desk = make_desk(tmp_path, pool)
    rng = random.Random(0)
    for n in range(12):
        who = rater(n)
        for _ in range(6):
            shown, result = vote(desk, who, rng.choice("AB"))
            item = desk.items[shown["sample_id"]]
            for side in "AB":      # the text shown is the stored text of the revealed system
                role = result["reveal"][side]["role"]
                assert shown[side]["text"] == item.texts[role].text
    rows = desk.store.votes()
    pairs = Counter(tuple(sorted((r["role_a"], r["role_b"]))) for r in rows)
    assert set(pairs) == {("authors", "teacher"), ("student", "teacher"), ("authors", "student")}
    assert max(pairs.values()) - min(pairs.values()) <= 1, pairs
    for r in rows:
        student = pool.systems[r["sample_id"].split(":")[0]]["student"]  # one per dataset
        for s in "ab":
            role, system = r[f"role_{s}"], r[f"system_{s}"]
            assert system == SYSTEM_OF.get(role, student.model)
            assert r[f"version_{s}"].endswith(f"pool {pool.fingerprint}")
        for s in "ab":              # the students keep their P(Yes); the teacher has none
            text = desk.items[r["sample_id"]].texts[r[f"role_{s}"]]
            assert r[f"p_yes_{s}"] == text.p_yes and (text.p_yes is None) == (text.system.role == "teacher")


def test_results_rank_the_three_systems_with_intervals(pool, tmp_path):
    desk = make_desk(tmp_path, pool)
    # raters who prefer Mixtral, then the paper's student, then ours: the ranking shows it
    rank = {"teacher": 0, "authors": 1, "student": 2}
    rng = random.Random(3)
    for n in range(20):
        who = rater(n)
        for _ in range(6):
            shown = desk.issue(who)
            item = desk.items[shown["sample_id"]]
            roles = {side: next(r for r, t in item.texts.items() if t.text == shown[side]["text"])
                     for side in "AB"}
            better = min("AB", key=lambda s: rank[roles[s]])
            choice = better if rng.random() < 0.8 else ("B" if better == "A" else "A")
            scores = {"plausibility": 3, "faithfulness": 3, "helpfulness": 3}
            desk.cast(parse_vote({"ticket": shown["ticket"], "choice": choice,
                                  "scores": {"A": scores, "B": scores}}), who)
    report = build_report(desk.store.votes(), n_boot=200)
    bt = report["bradley_terry"]
    # each dataset's own student is its own system (ML-1M's and Fashion's are different models)
    students = {f"student: {pool.systems[d]['student'].model}" for d in pool.systems}
    assert [k.split(":")[0] for k in bt] == ["teacher", "authors"] + ["student"] * len(students)
    assert set(bt) >= students
    for entry in bt.values():
        assert entry["ci"][0] <= entry["score"] <= entry["ci"][1]
    table = report_markdown(report)
    assert "| 1 | teacher: Mixtral-8x7B-Instruct |" in table and "| rank | system |" in table
