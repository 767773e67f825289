"""Human ratings of explanations: blind pairwise comparisons of three systems' stored texts
(Mixtral, the paper's teacher; the paper's 7B student; our student) with Likert scores.

    from reasoningrec.ratings import RatingsSettings, RatingsStore, RatingDesk
    settings = RatingsSettings.from_env()                  # REASONINGREC_RATINGS_DIR, ...
    store = RatingsStore.open(settings.data_dir)           # SQLite, WAL, versioned schema
    desk = RatingDesk.from_service(app_service, settings, store)

    reasoningrec ratings report | export | restore         # the CLI (commands/ratings.py)

Modules: config (env settings), schema (migrations), store (votes + cached explanations),
payload (checking a ballot), raters (identity, IP hashing), items (what is rated, pairs,
attention checks), tickets (sealed: encrypted and authenticated), desk (issue an item, cast a
vote), sync (JSONL shards, restore), hubsync (push to a Hub dataset, merge its votes, retry
while the Hub is away),
export (JSONL/CSV), stats (bootstrap, Bradley-Terry, Krippendorff's alpha), report (results).
"""
from .config import RatingsSettings
from .desk import RatingDesk
from .store import DuplicateVote, RateLimited, RatingsStore, VoteRejected

__all__ = ["RatingsSettings", "RatingsStore", "RatingDesk", "VoteRejected", "DuplicateVote",
           "RateLimited"]
