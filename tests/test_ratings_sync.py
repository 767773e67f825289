"""Export (JSONL, CSV), shards and restore, the Hub sync, and the `reasoningrec ratings` command.

Everything a restart depends on is tested here for real: the shard files a process appends,
rebuilding a store from a folder of them, and the Hub sync (huggingface_hub unchanged) against
a real local HTTP server standing in for the Hub (tests/hub_server.py), down and then up.

    nice -n 19 .venv/bin/python -m pytest tests/test_ratings_sync.py -q
"""
from __future__ import annotations

import json

import pytest

from reasoningrec.cli import main as cli
from reasoningrec.demo_pool import DemoPool
from reasoningrec.ratings.config import RatingsSettings
from reasoningrec.ratings.desk import RatingDesk
from reasoningrec.ratings.export import export_votes, read_csv
from reasoningrec.ratings.payload import parse_vote
from reasoningrec.ratings.raters import rater_for
from reasoningrec.ratings.store import RatingsStore
from reasoningrec.ratings.hubsync import LOCAL_ONLY, HubSync
from reasoningrec.ratings.sync import ShardWriter, backfill, restore_from_folder
from tests.hub_server import LocalHub

SCORES = {"plausibility": 3, "faithfulness": 4, "helpfulness": 2}


@pytest.fixture(scope="module")
def voted(tmp_path_factory):
    """A store with 12 real votes from 3 raters (9 blind, 3 attention checks; rater 0 fails
    its check), and their shard folder."""
    folder = tmp_path_factory.mktemp("ratings")
    store = RatingsStore.open(folder)
    shards = folder / "shards"
    writer = ShardWriter(shards)
    store.on_commit(writer)
    desk = RatingDesk(store, DemoPool.load(), RatingsSettings(folder, min_read_s=0, salt="k" * 40,
                                                              attention_every=3), seed=1)
    for n in range(3):
        who = rater_for(None, f"rater-{n:05d}", "192.0.2.1", "k" * 40)
        for k in range(4):
            shown = desk.issue(who)
            check = shown["mode"] == "attention"
            scores = {**SCORES, "faithfulness": (5 if n == 0 else 1) if check else 3}
            desk.cast(parse_vote({"ticket": shown["ticket"], "choice": "tie" if check else "AB"[k % 2],
                                  "scores": {"A": scores, "B": scores}}), who)
    return store, shards, writer


def test_every_vote_is_in_the_shard_and_a_fresh_store_is_restored_from_it(voted, tmp_path):
    store, shards, writer = voted
    assert [p.name for p in shards.iterdir()] == [writer.path.name]
    assert len(writer.path.read_text().splitlines()) == store.count() == 12
    fresh = RatingsStore.open(tmp_path)
    result = restore_from_folder(fresh, shards)
    assert result == {"files": 1, "rows": 12, "restored": 12, "skipped": []}
    assert fresh.votes() == store.votes()                   # every column, in order
    assert {r["mode"] for r in fresh.votes()} == {"blind", "attention"}
    assert restore_from_folder(fresh, shards)["restored"] == 0   # repeating adds nothing


def test_a_write_cut_short_is_skipped_and_named(voted, tmp_path):
    store, shards, writer = voted
    folder = tmp_path / "shards"
    folder.mkdir()
    lines = writer.path.read_text().splitlines()
    (folder / "votes-a.jsonl").write_text("\n".join(lines[:5]) + "\n" + lines[5][:40])
    (folder / "votes-b.jsonl").write_text("\n".join(lines[5:]) + '\n{"vote_id": "x"}\nnot json\n\n')
    fresh = RatingsStore.open(tmp_path / "db")
    result = restore_from_folder(fresh, folder)
    assert result["restored"] == 12 and result["skipped"] == [
        "votes-a.jsonl:6: truncated last line (a write cut short)",
        "votes-b.jsonl:8: not a vote row (lacks created_at, rater_id, rater_kind, ip_hash)",
        "votes-b.jsonl:9: invalid JSON (Expecting value)"]


def test_backfill_writes_votes_that_missed_their_shard(voted, tmp_path):
    store, shards, _ = voted
    partial = tmp_path / "shards"
    partial.mkdir()
    lines = next(shards.iterdir()).read_text().splitlines()
    (partial / "old.jsonl").write_text("\n".join(lines[:9]) + "\n")   # killed before 3 appends
    writer = ShardWriter(partial)
    assert backfill(store, writer, partial) == 3
    assert backfill(store, writer, partial) == 0
    fresh = RatingsStore.open(tmp_path)
    restore_from_folder(fresh, partial)
    assert fresh.votes() == store.votes()


def test_jsonl_and_csv_exports_round_trip(voted, tmp_path):
    store, _, _ = voted
    assert export_votes(store, tmp_path / "v.jsonl")["rows"] == 12
    rows = [json.loads(line) for line in (tmp_path / "v.jsonl").read_text().splitlines()]
    assert rows == store.votes()
    export_votes(store, tmp_path / "v.csv")
    raw = (tmp_path / "v.csv").read_text()
    assert read_csv(tmp_path / "v.csv") == store.votes()
    formula = RatingsStore.open(tmp_path / "formula")      # a text that starts like a formula
    formula.insert_restored([{**store.votes()[0], "text_a": "=HYPERLINK(\"x\") starts like a "
                              "formula, and has \"quotes\", commas\nand a second line."}])
    export_votes(formula, tmp_path / "f.csv")
    raw = (tmp_path / "f.csv").read_text()
    assert "'=HYPERLINK" in raw and ",=HYPERLINK" not in raw     # no live spreadsheet formula
    assert read_csv(tmp_path / "f.csv") == formula.votes()
    counted = export_votes(store, tmp_path / "c.csv", only_counted=True)
    assert counted["rows"] == 6       # 9 blind votes, less rater 0's 3 (failed its check)
    with pytest.raises(ValueError, match="unknown export format 'xlsx'"):
        export_votes(store, tmp_path / "v.xlsx")


def test_cli_report_export_and_restore(voted, tmp_path, capsys):
    store, shards, _ = voted
    folder = str(store.path.parent)
    assert cli(["ratings", "report", "--dir", folder, "--json", "--boot", "200",
                "--plot", str(tmp_path / "r.png")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["votes"] == {"total": 12, "blind": 9, "attention_checks": 3, "failed_checks": 1,
                               "excluded_careless": 3, "counted": 6}
    assert sum(p["votes"] for p in report["pairs"]) == 6 and report["raters"]["careless"] == 1
    assert (tmp_path / "r.png").stat().st_size > 10_000
    assert cli(["ratings", "report", "--dir", folder, "--boot", "100"]) == 0
    assert "win rate (95% CI)" in capsys.readouterr().out
    assert cli(["ratings", "export", "--dir", folder, "--out", str(tmp_path / "x.jsonl"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 12
    assert cli(["ratings", "restore", "--dir", str(tmp_path / "new"), "--from",
                str(tmp_path / "x.jsonl"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["restored"] == 12
    assert cli(["ratings", "report", "--dir", str(tmp_path / "nothing")]) == 2
    assert "no ratings at" in capsys.readouterr().err


def test_hub_sync_needs_both_token_and_repo(tmp_path, monkeypatch):
    monkeypatch.setenv("REASONINGREC_RATINGS_REPO", "someone/ratings")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    settings = RatingsSettings.from_env(tmp_path)
    assert not settings.sync_enabled
    sync = HubSync(RatingsStore.open(tmp_path), settings).start()
    assert sync.status()["state"] == "off" and sync.writer is None
    assert LOCAL_ONLY in sync.describe()
    monkeypatch.setenv("HF_TOKEN", "hf_x")
    assert RatingsSettings.from_env(tmp_path).sync_enabled
    monkeypatch.setenv("REASONINGREC_RATINGS_RATE_LIMIT", "ten per minute")
    with pytest.raises(ValueError, match="must look like 40/600"):
        RatingsSettings.from_env(tmp_path)


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(sync: HubSync, state: str, attempts: int = 1, limit_s: float = 60.0) -> dict:
    import time
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        status = sync.status()
        if status["state"] == state and status["attempts"] >= attempts:
            return status
        time.sleep(0.05)
    raise AssertionError(f"sync never reached {state!r} (attempt {attempts}): {sync.status()}")


def test_sync_retries_while_the_hub_is_down_then_merges_and_pushes(voted, tmp_path, monkeypatch):
    """The Hub is down at start: the sync retries with growing waits, votes go on into SQLite
    and the shard; once the Hub answers, its votes are merged into the non-empty store (dedup by
    vote id) and the local votes are pushed."""
    from huggingface_hub import constants
    settings = RatingsSettings(tmp_path, repo_id="someone/ratings", hf_token="hf_test", salt="k" * 40)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)    # conftest's offline default
    blocked = HubSync(RatingsStore.open(tmp_path / "offline"), settings).start()
    assert blocked.status()["state"] == "off" and "HF_HUB_OFFLINE=1" in blocked.describe()
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)   # what app.py leaves when syncing
    rows = voted[0].votes()
    hub_rows, local_rows, cast_while_down = rows[:6], rows[4:8], rows[8]   # 4, 5 on both sides
    store = RatingsStore.open(tmp_path)
    assert store.insert_restored(local_rows) == 4
    port = _free_port()
    sync = HubSync(store, settings, retry_s=0.2, max_retry_s=0.4,
                   endpoint=f"http://127.0.0.1:{port}").start()
    try:
        status = _wait_for(sync, "retrying", attempts=3)
        assert status["retry_in_s"] == 0.4                      # 0.2, then doubled, capped
        assert "ConnectError" in status["last_error"] and "failing" in sync.describe()
        store.add_vote({k: v for k, v in cast_while_down.items() if k != "id"})
        assert cast_while_down["vote_id"] in sync.writer.path.read_text()   # kept meanwhile
        hub = LocalHub(port)
        hub.files["someone/ratings"] = {"shards/votes-old.jsonl": "".join(
            json.dumps(r) + "\n" for r in hub_rows).encode()}
        hub.start()
        status = _wait_for(sync, "synced")
        assert status["restored"] == 4 and status["last_error"] is None   # rows 0-3 were new
        assert [r["vote_id"] for r in store.votes()] == [r["vote_id"] for r in local_rows] + [
            cast_while_down["vote_id"]] + [r["vote_id"] for r in hub_rows[:4]]
        assert restore_from_folder(store, tmp_path / "hub" / "shards")["restored"] == 0
        for _ in range(600):                     # the scheduler's first push runs at once
            if sync.status()["last_push_at"]:
                break
            __import__("time").sleep(0.05)
        pushed = {p: d for repo, files in hub.commits for p, d in files.items()}
        shard = f"shards/{sync.writer.path.name}"
        assert list(pushed) == [shard], hub.requests
        pushed_ids = {json.loads(line)["vote_id"] for line in pushed[shard].decode().splitlines()}
        assert pushed_ids == {r["vote_id"] for r in local_rows} | {cast_while_down["vote_id"]}
        assert "connected; 4 votes merged" in sync.describe()
    finally:
        sync.stop()
        if "hub" in locals():
            hub.stop()
