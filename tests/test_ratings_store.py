"""The ratings store, ballots, raters and the desk, on the shipped demo pool (no model: every
text a rater sees was stored by the pool builder).

    nice -n 19 .venv/bin/python -m pytest tests/test_ratings_store.py -q
"""
from __future__ import annotations

import dataclasses
import json
import sqlite3
import time

import pytest

from reasoningrec.demo_pool import DemoPool
from reasoningrec.ratings.config import RatingsSettings
from reasoningrec.ratings.desk import RatingDesk
from reasoningrec.ratings.payload import MAX_PAYLOAD_BYTES, PayloadError, parse_vote
from reasoningrec.ratings.raters import hash_ip, rater_for
from reasoningrec.ratings.schema import MIGRATIONS, SCHEMA_VERSION, SchemaError
from reasoningrec.ratings.store import DuplicateVote, RateLimited, RatingsStore, VoteRejected
from reasoningrec.ui.state import build_request

SCORES = {"plausibility": 4, "faithfulness": 2, "helpfulness": 3}


@pytest.fixture(scope="module")
def pool():
    return DemoPool.load()


def first_item(pool, dataset: str) -> str:
    """The sample id of the dataset's first pool user (its test target)."""
    return pool.users[dataset][0].sample.sample_id


def make_desk(tmp_path, pool, **settings) -> RatingDesk:
    config = {"min_read_s": 0.0, "salt": "s" * 40, "ids_per_address": 0, **settings}
    return RatingDesk(RatingsStore.open(tmp_path), pool, RatingsSettings(tmp_path, **config), seed=0)


def ballot(shown, choice="A", rater="", a=SCORES, b=SCORES):
    return parse_vote({"ticket": shown["ticket"], "choice": choice, "scores": {"A": a, "B": b},
                       **({"rater": rater} if rater else {})})


def anon(n=0, ip="198.51.100.7"):
    return rater_for(None, f"browser-{n:04d}", ip, "s" * 40)


# -- the database --------------------------------------------------------------------------------
def test_store_is_wal_and_versioned(tmp_path):
    store = RatingsStore.open(tmp_path)
    conn = sqlite3.connect(tmp_path / "ratings.sqlite")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == store.version
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    with pytest.raises(SchemaError, match="schema version 99, newer"):
        RatingsStore.open(tmp_path)


def test_a_version_1_database_is_migrated_with_its_rows(tmp_path, pool):
    desk = make_desk(tmp_path / "new", pool)
    desk.cast(ballot(desk.issue(anon())), anon())
    row = {k: v for k, v in desk.store.votes()[0].items() if k != "channel"}
    old = sqlite3.connect(tmp_path / "ratings.sqlite", isolation_level=None)
    for statement in MIGRATIONS[0].split(";"):
        if statement.strip():
            old.execute(statement)
    old.execute("PRAGMA user_version = 1")
    old.execute(f"INSERT INTO votes ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                list(row.values()))
    old.close()
    store = RatingsStore.open(tmp_path)
    assert store.version == 2
    [migrated] = store.votes()
    assert migrated == {**row, "channel": "ui"}


def test_one_vote_per_rater_sample_mode_is_the_schemas_rule(tmp_path, pool):
    desk = make_desk(tmp_path, pool)
    ml = first_item(pool, "ml1m")
    shown = desk.issue(anon(), ml)
    desk.cast(ballot(shown), anon())
    again = desk.issue(anon(), ml)          # a second ticket for the same item
    with pytest.raises(DuplicateVote, match="Already voted"):
        desk.cast(ballot(again), anon())
    row = desk.store.votes()[0]                            # even bypassing every check in Python
    conn = sqlite3.connect(tmp_path / "ratings.sqlite")
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        conn.execute(f"INSERT INTO votes ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                     [v if k != "vote_id" else "other-id" for k, v in row.items()])
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute("UPDATE votes SET faithfulness_a = 6")
    conn.rollback()
    conn.close()
    assert desk.store.count() == 1
    desk.cast(ballot(desk.issue(anon(1), ml)), anon(1))                  # another rater may
    desk.settings = dataclasses.replace(desk.settings, attention_every=1)   # checks only
    check = desk.issue(anon(), ml)
    assert check["mode"] == "attention"
    desk.cast(ballot(check), anon())                                     # another mode too
    assert desk.store.count() == 3


def test_anonymous_ids_per_address_are_limited_in_the_write(tmp_path, pool):
    """The 4th anonymous id from one address is refused at issue and, were it to get a ticket
    anyway, at the write; a signed-in rater and another address are not."""
    from reasoningrec.ratings.store import TooManyRaters
    desk = make_desk(tmp_path, pool, ids_per_address=3)
    for n in range(3):
        desk.cast(ballot(desk.issue(anon(n))), anon(n))
    with pytest.raises(TooManyRaters, match="at most 3 anonymous raters per network address"):
        desk.issue(anon(3))
    loose = make_desk(tmp_path, pool, ids_per_address=0)      # a ticket from a desk without it
    shown = loose.issue(anon(3))
    with pytest.raises(TooManyRaters):
        desk.cast(ballot(shown), anon(3))
    desk.cast(ballot(desk.issue(anon(1))), anon(1))           # a known id keeps voting
    desk.cast(ballot(desk.issue(anon(4, ip="192.0.2.1"))), anon(4, ip="192.0.2.1"))
    hf = rater_for({"preferred_username": "someone"}, None, "198.51.100.7", "s" * 40)
    desk.cast(ballot(desk.issue(hf)), hf)
    assert desk.store.count() == 6 and desk.store.count("rater_id = 'anon:browser-0003'") == 0


def test_rate_limit_per_rater(tmp_path, pool):
    desk = make_desk(tmp_path, pool, rate_limit=(3, 600.0))
    for _ in range(3):
        desk.cast(ballot(desk.issue(anon())), anon())
    with pytest.raises(RateLimited, match=r"at most 3 every 600 s per rater. Try again in \d+ s"):
        desk.cast(ballot(desk.issue(anon())), anon())
    desk.cast(ballot(desk.issue(anon(2))), anon(2))          # others are not slowed down
    assert desk.store.count() == 4


# -- ballots ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("payload, message", [
    ("x" * (MAX_PAYLOAD_BYTES + 1), "8,193 bytes; the limit is 8,192"),
    ("{not json", "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    ({"ticket": "t", "choice": "A"}, "lacks scores"),
    ({"ticket": "t", "choice": "A", "scores": {}, "ip": "1.2.3.4"}, "Unknown field"),
    ({"ticket": "t", "choice": "best", "scores": {}}, "choice must be one of A, B, tie, both_bad"),
    ({"ticket": "t", "choice": "A", "scores": {"A": SCORES}}, "one entry per side"),
    ({"ticket": "t", "choice": "A", "scores": {"A": SCORES, "B": {**SCORES, "faithfulness": 0}}},
     "scores.B.faithfulness must be an integer from 1 to 5, got 0"),
    ({"ticket": "t", "choice": "A", "scores": {"A": SCORES, "B": {"plausibility": 3}}},
     "scores.B must give exactly"),
    ({"ticket": "t", "rater": "x<script>", "choice": "A", "scores": {"A": SCORES, "B": SCORES}},
     "rater must be 8-64 characters"),
])
def test_malformed_ballots_are_refused_with_a_clear_message(payload, message):
    with pytest.raises(PayloadError, match=message):
        parse_vote(payload)


# -- raters ---------------------------------------------------------------------------------------
def test_ip_is_hashed_with_a_persisted_salt_and_never_stored(tmp_path, pool):
    settings = RatingsSettings(tmp_path)
    salt = settings.resolved_salt()
    assert len(salt) == 64 and (tmp_path / "salt").stat().st_mode & 0o777 == 0o600
    assert RatingsSettings(tmp_path).resolved_salt() == salt          # the next start agrees
    assert hash_ip("203.0.113.9", salt) != hash_ip("203.0.113.9", "another-salt" * 4)
    assert rater_for({"preferred_username": "alice"}, None, "1.2.3.4", salt).rater_id == "hf:alice"
    desk = make_desk(tmp_path, pool)
    who = anon(ip="203.0.113.9")
    desk.cast(ballot(desk.issue(who)), who)
    dump = "\n".join((tmp_path / "ratings.sqlite").read_bytes().decode("latin-1").split("\0"))
    dump += (tmp_path / "ratings.sqlite-wal").read_bytes().decode("latin-1")
    assert "203.0.113.9" not in dump and desk.store.votes()[0]["ip_hash"] == hash_ip("203.0.113.9", "s" * 40)


def test_login_only_on_a_space_with_oauth_and_its_libraries(monkeypatch):
    import importlib.util
    from reasoningrec.ratings.raters import oauth_available
    monkeypatch.delenv("SPACE_ID", raising=False)
    monkeypatch.setenv("OAUTH_CLIENT_ID", "abc")
    assert not oauth_available()                        # not a Space: anonymous raters
    monkeypatch.setenv("SPACE_ID", "someone/reasoningrec")
    has_extra = all(importlib.util.find_spec(m) for m in ("authlib", "itsdangerous"))
    assert oauth_available() == has_extra               # gradio[oauth] present or not


# -- the desk ---------------------------------------------------------------------------------------
def test_items_share_sample_ids_with_the_explain_tab(pool, tmp_path):
    desk = make_desk(tmp_path, pool)
    assert len(desk.items) == sum(len(users) for users in pool.users.values())  # one per user
    for item in list(desk.items.values())[::7]:
        req = build_request(pool, item.dataset, item.user_id, None, None, item.sample.target)
        assert req.sample == item.sample and req.teacher == item.teacher


def test_blind_item_reveal_and_what_is_stored(tmp_path, pool):
    desk = make_desk(tmp_path, pool)
    user = pool.users["ml1m"][0]
    shown = desk.issue(anon(), user.sample.sample_id)
    assert "system" not in json.dumps({k: shown[k] for k in ("A", "B")})    # names hidden
    teacher = pool.text("ml1m", user.user_id, shown["candidate"], "teacher")
    ours = pool.text("ml1m", user.user_id, shown["candidate"], "student")
    texts = {shown["A"]["text"], shown["B"]["text"]}
    assert texts == {teacher.text, ours.text}          # ML-1M: the only pair it has
    result = desk.cast(ballot(shown, "B"), anon())
    roles = {s: result["reveal"][s]["role"] for s in "AB"}
    assert sorted(roles.values()) == ["student", "teacher"]
    row = desk.store.votes()[0]
    teacher_side = "a" if roles["A"] == "teacher" else "b"
    assert row["swapped"] == (teacher_side == "b") and row[f"text_{teacher_side}"] == teacher.text
    assert row[f"system_{teacher_side}"] == "Mixtral-8x7B-Instruct" and row["choice"] == "B"
    assert pool.fingerprint in row[f"version_{teacher_side}"]
    assert row[f"prediction_{teacher_side}"] == ("Yes" if teacher.label else "No")
    assert row["reading_s"] >= 0 and row["rater_id"] == "anon:browser-0000"


def test_tickets_are_bound_to_rater_signature_and_reading_time(tmp_path, pool):
    desk = make_desk(tmp_path, pool, min_read_s=0.6, read_chars_per_s=1e9)
    shown = desk.issue(anon())
    with pytest.raises(PayloadError, match="issued to another rater"):
        desk.cast(ballot(shown), anon(1))
    t = shown["ticket"]
    forged = {**shown, "ticket": t[:30] + ("x" if t[30] != "x" else "y") + t[31:]}
    with pytest.raises(PayloadError, match="bad signature"):
        desk.cast(ballot(forged), anon())
    with pytest.raises(VoteRejected, match="Too quick"):
        desk.cast(ballot(shown), anon())
    time.sleep(0.7)
    assert desk.cast(ballot(shown), anon())["ok"]
    assert desk.store.votes()[0]["min_read_s"] == 0.6


def test_attention_checks_come_every_nth_item_and_flag_a_careless_choice(tmp_path, pool):
    desk = make_desk(tmp_path, pool, attention_every=3)
    modes = []
    for n in range(6):
        shown = desk.issue(anon())
        modes.append(shown["mode"])
        result = desk.cast(ballot(shown, "A", a={**SCORES, "faithfulness": 5}), anon())
        if shown["mode"] == "attention":   # failed: preferred the contradiction and rated it 5
            planted = next(s for s in "AB" if result["reveal"][s]["role"] == "check")
            assert result["attention_failed"] == (planted == "A")
        else:
            assert result["attention_failed"] is None
    assert modes == ["blind", "blind", "attention"] * 2
    user = pool.users["ml1m"][0]
    desk.settings = dataclasses.replace(desk.settings, attention_every=1)   # checks only
    check = desk.issue(anon(1), user.sample.sample_id)
    side = next(s for s in "AB" if check[s]["text"] != pool.teacher("ml1m", user.user_id,
                                                                     user.sample.target).text)
    fine = desk.cast(ballot(check, "A" if side == "B" else "B",
                            **{side.lower(): {**SCORES, "faithfulness": 1}}), anon(1))
    assert fine["attention_failed"] == 0


def test_raters_are_given_the_same_items_until_three_have_rated_them(tmp_path, pool):
    desk = make_desk(tmp_path, pool, attention_every=0)
    seen = []
    for n in range(4):                                  # agreement needs overlapping raters
        ids = set()
        for _ in range(2):
            shown = desk.issue(anon(n))
            desk.cast(ballot(shown), anon(n))
            ids.add(shown["sample_id"])
        seen.append(ids)
    assert seen[0] == seen[1] == seen[2] and not seen[3] & seen[0]
