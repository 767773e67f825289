"""`reasoningrec data stats|show|search|splits`: what a dataset holds, and the ML-1M split.

    reasoningrec data stats --dataset ml1m --data-dir ../shared/data --json
    reasoningrec data show --dataset fashion --split test --user 0 --data-dir ../shared/data
    reasoningrec data search --dataset ml1m --data-dir ../shared/data --query "toy story"
    reasoningrec data splits --data-dir tests/fixtures/ml-1m-mini --out my_ctr/
"""
from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

from . import positive_int


def add_dataset_args(parser, split: bool = False) -> None:
    """--dataset/--data-dir (and --split), shared by every command that reads data."""
    parser.add_argument("--dataset", required=True,
                        help="ml1m, ml1m-raw, ml100k, or an Amazon folder name (fashion, beauty)")
    parser.add_argument("--data-dir", default=None,
                        help="data root (default: $REASONINGREC_DATA_DIR, then ./data)")
    parser.add_argument("--strict", action="store_true",
                        help="refuse rows a loader would otherwise repair or skip (counted "
                             "under 'skipped' in data stats), and a cut split")
    if split:
        parser.add_argument("--split", default="test", choices=["train", "valid", "test"],
                            help="which split (default: test)")


def register(sub) -> None:
    data = sub.add_parser("data", help="inspect datasets")
    verbs = data.add_subparsers(dest="verb", metavar="VERB", required=True)

    stats = verbs.add_parser("stats", help="item/user/sample counts and like rates")
    add_dataset_args(stats)
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    stats.set_defaults(func=run_stats)

    show = verbs.add_parser("show", help="one sample with its item texts")
    add_dataset_args(show, split=True)
    show.add_argument("--user", required=True, help="user id (sample key) to show")
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.set_defaults(func=run_show)

    search = verbs.add_parser("search", help="embed the catalogue (cached; timed) and search it "
                                             "by meaning (reasoningrec/retrieval.py)")
    add_dataset_args(search)
    search.add_argument("--query", required=True, help="free-text query, e.g. 'pixar toys'")
    search.add_argument("--n", type=positive_int, default=5, help="how many items to show")
    search.add_argument("--no-cache", action="store_true",
                        help="embed every item again even if the catalogue is cached")
    search.add_argument("--json", action="store_true", help="print one JSON object")
    search.set_defaults(func=run_search)

    splits = verbs.add_parser("splits", help="build the paper's ML-1M ctr split (train/valid/"
                                             "test.csv) from GroupLens ratings.dat")
    splits.add_argument("--data-dir", default=None,
                        help="folder holding movielens-1m/{ratings,movies,users}.dat (or ml-1m/, "
                             "or those files; default: $REASONINGREC_DATA_DIR, then ./data)")
    splits.add_argument("--out", required=True, help="folder to write train/valid/test.csv to")
    splits.add_argument("--json", action="store_true", help="print one JSON object")
    splits.set_defaults(func=run_splits)


def run_stats(args) -> dict:
    from ..data import load_dataset
    return load_dataset(args.dataset, args.data_dir, strict=args.strict).stats()


def run_show(args) -> dict:
    from ..data import load_dataset
    ds = load_dataset(args.dataset, args.data_dir, strict=args.strict)
    sample = ds.sample(args.split, args.user)
    return {
        "sample_id": sample.sample_id,
        "user": asdict(ds.users[sample.user_id]) if sample.user_id in ds.users else None,
        "history": [{"item": ds.item(h.item_id).title, "liked": h.liked} for h in sample.history],
        "target": ds.item(sample.target).text(),
        "label": sample.label,
    }


def run_search(args) -> dict:
    from .. import retrieval
    from ..config import cpu_threads
    from ..data import load_dataset
    items = load_dataset(args.dataset, args.data_dir, strict=args.strict).items
    start, encoded = time.perf_counter(), retrieval.stats["texts_encoded"]
    index = retrieval.ItemIndex.build(items, use_cache=not args.no_cache)
    seconds, embedded = time.perf_counter() - start, retrieval.stats["texts_encoded"] - encoded
    hits = [{"score": round(score, 3), "item": item.id, "title": item.title}
            for item, score in index.search(args.query, args.n)]
    if not args.json:
        for hit in hits:
            print(f"{hit['score']:.3f}  {hit['item']}  {hit['title']}")
    out = {"items": len(index), "embedded": embedded,
           "seconds": round(seconds, 1), "threads": cpu_threads()}
    return {**out, "hits": hits} if args.json else out


def run_splits(args) -> dict:
    from ..config import resolve_data_dir
    from ..data.splits import load_ml1m_raw, write_ctr_csv
    ds = load_ml1m_raw(resolve_data_dir(args.data_dir))
    written = write_ctr_csv(ds.splits, Path(args.out))
    return {"written": [str(p) for p in written], **ds.stats()}
