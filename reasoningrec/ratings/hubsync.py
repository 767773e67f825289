"""Keep the votes on a Hugging Face dataset repo, and keep trying when the Hub is away.

    from reasoningrec.ratings.hubsync import HubSync
    sync = HubSync(store, settings).start()   # HF_TOKEN + REASONINGREC_RATINGS_REPO, else "off"
    sync.status()          # {"state": "synced" | "retrying" | "connecting" | "off", ...}
    sync.describe()        # one line for the page (Results tab) and the logs

From the first moment every committed vote is appended to this process's JSONL shard
(sync.ShardWriter), Hub or not. A background thread then connects: it downloads the dataset's
shards and merges them into the store (dedup by vote id, into a non-empty store too), starts a
huggingface_hub.CommitScheduler that pushes the shard folder every few minutes
(REASONINGREC_RATINGS_PUSH_MIN), and appends any vote no shard holds yet. When a step fails
(Hub unreachable, bad token) it waits and tries again, doubling the wait from `retry_s`
(REASONINGREC_RATINGS_RETRY_S) up to `max_retry_s`; each failure is logged with the next
attempt's time. A push that fails after that is retried by the scheduler itself (files it has
not uploaded stay pending) and shows here as "push failing". HF_ENDPOINT, when set, is the
Hub's address (a mirror, or a local server in the tests). HF_HUB_OFFLINE blocks the sync
(state "off", said on the page).
"""
from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from .store import RatingsStore
from .sync import ShardWriter, backfill, restore_from_folder

log = logging.getLogger(__name__)
LOCAL_ONLY = "ratings are local and will be lost on restart"


def _short(exc: BaseException) -> str:
    """An exception as one short line for the page and the log."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def _scheduler_class():
    from huggingface_hub import CommitScheduler

    class Scheduler(CommitScheduler):
        """CommitScheduler sharing the shard writer's lock (no push sees half a line) and
        reporting each push's outcome to the HubSync."""
        lock = property(lambda self: self._shared_lock, lambda self, value: None)

        def __init__(self, *, shared_lock, on_push, **kwargs):
            self._shared_lock, self._on_push = shared_lock, on_push
            super().__init__(**kwargs)

        def push_to_hub(self):
            try:
                info = super().push_to_hub()
            except Exception as exc:
                self._on_push(exc)
                raise
            self._on_push(None)
            return info

    return Scheduler


class HubSync:
    def __init__(self, store: RatingsStore, settings, every_minutes: float | None = None,
                 retry_s: float | None = None, max_retry_s: float = 300.0,
                 endpoint: str | None = None):
        self.store, self.settings = store, settings
        self.every_minutes = every_minutes or settings.push_every_min
        self.retry_s = retry_s or settings.sync_retry_s
        self.max_retry_s = max(max_retry_s, self.retry_s)
        self.endpoint = endpoint or os.environ.get("HF_ENDPOINT") or None
        self.shards = Path(settings.data_dir) / "shards"
        self.hub_copy = Path(settings.data_dir) / "hub"
        self.writer: ShardWriter | None = None
        self.scheduler = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._state = {"state": "off", "repo": settings.repo_id, "attempts": 0,
                       "last_error": None, "retry_in_s": None, "next_attempt_at": None, "restored": 0,
                       "backfilled": 0, "last_push_at": None, "push_error": None}

    # -- state ---------------------------------------------------------------------------------
    def _set(self, **changes) -> None:
        with self._lock:
            self._state.update(changes)

    def status(self) -> dict:
        with self._lock:
            return dict(self._state)

    def describe(self) -> str:
        s = self.status()
        if s["state"] == "off" and s["last_error"]:
            return f"Ratings sync to {s['repo']} cannot run ({s['last_error']}): {LOCAL_ONLY} on a Space."
        if s["state"] == "off":
            return ("Ratings sync is off (HF_TOKEN and REASONINGREC_RATINGS_REPO are not both "
                    f"set): {LOCAL_ONLY} on a Space.")
        if s["state"] == "connecting":
            return f"Ratings sync to {s['repo']}: connecting to the Hub."
        if s["state"] == "retrying":
            wait = max(0, round((s["next_attempt_at"] or time.time()) - time.time()))
            return (f"Ratings sync to {s['repo']} is failing ({s['last_error']}); attempt "
                    f"{s['attempts']} failed, next in {wait} s. Votes are kept in this machine's "
                    "store and shard until the Hub answers; a restart before then loses them.")
        if s["push_error"]:
            return (f"Ratings sync to {s['repo']}: push failing ({s['push_error']}); the "
                    "scheduler tries again at its next round.")
        pushed = (time.strftime("%H:%M:%S UTC", time.gmtime(s["last_push_at"]))
                  if s["last_push_at"] else "not yet")
        return (f"Ratings sync to {s['repo']}: connected; {s['restored']} votes merged from "
                f"the Hub at start, last push {pushed}.")

    # -- running -------------------------------------------------------------------------------
    def start(self) -> "HubSync":
        """Start writing shards and connecting in the background (a no-op when sync is off)."""
        if not self.settings.sync_enabled:
            log.warning("ratings sync is off (set HF_TOKEN and REASONINGREC_RATINGS_REPO): %s "
                        "on a Space", LOCAL_ONLY)
            return self
        from huggingface_hub import constants
        if constants.HF_HUB_OFFLINE:    # read by huggingface_hub when it was imported
            self._set(last_error="HF_HUB_OFFLINE=1 (or TRANSFORMERS_OFFLINE=1) is set")
            log.error("ratings sync to %s cannot run: HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE "
                      "is set; %s on a Space",
                      self.settings.repo_id, LOCAL_ONLY)
            return self
        shared = threading.Lock()
        self.writer = ShardWriter(self.shards, lock=shared)
        self._set(state="connecting",
                  backfilled=backfill(self.store, self.writer, self.shards, self.hub_copy / "shards"))
        self.store.on_commit(self.writer)
        threading.Thread(target=self._connect_loop, args=(shared,), name="ratings-sync",
                         daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self.scheduler is not None:
            self.scheduler.stop()

    def _connect_loop(self, shared_lock) -> None:
        wait = self.retry_s
        while not self._stop.is_set():
            attempt = self.status()["attempts"] + 1
            self._set(attempts=attempt)
            try:
                self._connect(shared_lock)
                return
            except Exception as exc:   # unreachable, refused, bad token: all retried
                error = _short(exc)
                self._set(state="retrying", last_error=error, retry_in_s=wait,
                          next_attempt_at=time.time() + wait)
                log.warning("ratings sync to %s: attempt %d failed (%s); next in %.1f s",
                            self.settings.repo_id, attempt, error, wait)
            if self._stop.wait(wait):
                return
            wait = min(wait * 2, self.max_retry_s)

    def _connect(self, shared_lock) -> None:
        from huggingface_hub import HfApi, snapshot_download
        api = HfApi(endpoint=self.endpoint, token=self.settings.hf_token)
        api.create_repo(self.settings.repo_id, repo_type="dataset", private=True, exist_ok=True)
        snapshot_download(self.settings.repo_id, repo_type="dataset", token=self.settings.hf_token,
                          allow_patterns=["shards/*.jsonl"], local_dir=self.hub_copy,
                          endpoint=self.endpoint)
        merged = restore_from_folder(self.store, self.hub_copy / "shards")
        self.scheduler = _scheduler_class()(
            shared_lock=shared_lock, on_push=self._pushed, repo_id=self.settings.repo_id,
            repo_type="dataset", private=True, folder_path=self.shards, path_in_repo="shards",
            every=self.every_minutes, token=self.settings.hf_token, allow_patterns=["*.jsonl"],
            hf_api=api)
        added = backfill(self.store, self.writer, self.shards, self.hub_copy / "shards")
        self._set(state="synced", last_error=None, next_attempt_at=None,
                  restored=merged["restored"], backfilled=self.status()["backfilled"] + added)
        log.info("ratings sync to %s connected after %d attempt(s): %d votes merged from %d "
                 "Hub rows, shard %s", self.settings.repo_id, self.status()["attempts"],
                 merged["restored"], merged["rows"], self.writer.path.name)

    def _pushed(self, error: Exception | None) -> None:
        if error is None:
            self._set(last_push_at=time.time(), push_error=None)
        else:
            self._set(push_error=_short(error))
            log.warning("ratings sync to %s: push failed (%s); retried at the next round",
                        self.settings.repo_id, error)
