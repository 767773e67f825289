"""`reasoningrec data stats|show`: what a dataset holds.

    reasoningrec data stats --dataset ml1m --data-dir ../shared/data --json
    reasoningrec data show --dataset fashion --split test --user 0 --data-dir ../shared/data
"""
from __future__ import annotations

from dataclasses import asdict


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
