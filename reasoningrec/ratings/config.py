"""Settings of the ratings store and the Rate tab, read from the environment in one place.

    from reasoningrec.ratings.config import RatingsSettings
    settings = RatingsSettings.from_env()          # or RatingsSettings.from_env(data_dir="/tmp/r")
    settings.min_read_seconds(len(text_a) + len(text_b))

    REASONINGREC_RATINGS_DIR         where ratings.sqlite lives (default <cache dir>/ratings)
    REASONINGREC_RATINGS_REPO        a HF dataset repo id; with HF_TOKEN, votes are also pushed
    HF_TOKEN                         token for that repo
    REASONINGREC_RATINGS_SALT        salt for hashing IPs (default: random, kept in <dir>/salt)
    REASONINGREC_RATINGS_MIN_READ_S  minimum reading time before a vote counts (default 4 s)
    REASONINGREC_RATINGS_READ_CPS    reading speed added on top, characters/s (default 40)
    REASONINGREC_RATINGS_RATE_LIMIT  votes per rater per window, "N/SECONDS" (default 40/600)
    REASONINGREC_RATINGS_ATTENTION_EVERY  every Nth item a rater sees is a check (default 6; 0 = none)
    REASONINGREC_RATINGS_IDS_PER_ADDRESS  anonymous rater ids that may vote from one address
                                     (IP hash; default 3; 0 = no limit)
    REASONINGREC_TRUSTED_PROXY_HOPS  reverse proxies in front of the app that append the address
                                     they saw to X-Forwarded-For; the client's address is the
                                     hop the outermost of them appended (the Nth from the right).
                                     Default 1 on a Hugging Face Space (SPACE_ID set: its proxy
                                     appends the caller's address as the last hop), else 0 (the
                                     socket peer; X-Forwarded-For is ignored, as anyone can write it)
    REASONINGREC_RATINGS_PUSH_MIN    minutes between pushes of new votes to the repo (default 2)
    REASONINGREC_RATINGS_RETRY_S     first wait after a failed Hub connection, doubled up to 300 s (5)
"""
from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from ..config import cache_dir, env_number

MAX_READ_S = 40.0      # a very long pair of texts never asks for more than this


def _rate_limit(raw: str) -> tuple[int, float]:
    try:
        votes, seconds = raw.split("/")
        out = int(votes), float(seconds)
    except ValueError:
        raise ValueError("REASONINGREC_RATINGS_RATE_LIMIT must look like 40/600 (votes/seconds), "
                         f"got {raw!r}") from None
    if out[0] < 1 or out[1] <= 0:
        raise ValueError(f"REASONINGREC_RATINGS_RATE_LIMIT must be positive, got {raw!r}")
    return out


@dataclass(frozen=True)
class RatingsSettings:
    data_dir: Path
    repo_id: str | None = None
    hf_token: str | None = None
    salt: str | None = None              # None: read or create <data_dir>/salt
    min_read_s: float = 4.0
    read_chars_per_s: float = 40.0
    rate_limit: tuple[int, float] = (40, 600.0)
    attention_every: int = 6
    ids_per_address: int = 0             # 0: no limit; from_env (the app) defaults to 3
    proxy_hops: int = 0
    push_every_min: float = 2.0
    sync_retry_s: float = 5.0

    def __post_init__(self):
        object.__setattr__(self, "data_dir", Path(self.data_dir))   # a str works too

    @classmethod
    def from_env(cls, data_dir: str | Path | None = None) -> "RatingsSettings":
        env_dir = os.environ.get("REASONINGREC_RATINGS_DIR")
        folder = Path(data_dir or env_dir or cache_dir() / "ratings").expanduser()
        every = int(env_number("REASONINGREC_RATINGS_ATTENTION_EVERY", 6, float, 0))
        hops = int(env_number("REASONINGREC_TRUSTED_PROXY_HOPS",
                              1 if os.environ.get("SPACE_ID") else 0, float, 0))
        return cls(folder, os.environ.get("REASONINGREC_RATINGS_REPO") or None,
                   os.environ.get("HF_TOKEN") or None,
                   os.environ.get("REASONINGREC_RATINGS_SALT") or None,
                   env_number("REASONINGREC_RATINGS_MIN_READ_S", 4.0, float, 0),
                   env_number("REASONINGREC_RATINGS_READ_CPS", 40.0, float, 0),
                   _rate_limit(os.environ.get("REASONINGREC_RATINGS_RATE_LIMIT") or "40/600"),
                   every, int(env_number("REASONINGREC_RATINGS_IDS_PER_ADDRESS", 3, float, 0)), hops,
                   env_number("REASONINGREC_RATINGS_PUSH_MIN", 2.0, float, 0) or 2.0,
                   env_number("REASONINGREC_RATINGS_RETRY_S", 5.0, float, 0) or 5.0)

    @property
    def sync_enabled(self) -> bool:
        return bool(self.repo_id and self.hf_token)

    def min_read_seconds(self, chars: int) -> float:
        """Base time plus reading speed, scaled to how much text was shown (0 disables it)."""
        if self.min_read_s <= 0:
            return 0.0
        extra = chars / self.read_chars_per_s if self.read_chars_per_s > 0 else 0.0
        return round(min(MAX_READ_S, self.min_read_s + extra), 2)

    def resolved_salt(self) -> str:
        """The IP-hash salt: the env var, else a random one created once in the data dir
        (O_EXCL, so two processes starting together agree on one)."""
        if self.salt:
            return self.salt
        path = self.data_dir / "salt"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            for _ in range(40):  # the creating process may still be writing it
                value = path.read_text(encoding="ascii").strip()
                if len(value) >= 32:
                    return value
                time.sleep(0.05)
            if len(value) < 32:
                raise ValueError(f"{path}: the salt file is damaged (under 32 characters); "
                                 "delete it only if no published hashes depend on it") from None
            return value
        value = secrets.token_hex(32)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(value)
            f.flush()
            os.fsync(f.fileno())
        return value
