"""`reasoningrec ratings`: the collected human ratings, from the store the app writes.

    reasoningrec ratings report [--dir DIR] [--plot ratings.png] [--boot 2000] [--json]
    reasoningrec ratings export --out votes.csv [--dir DIR] [--counted]
    reasoningrec ratings restore --from SHARDS_DIR_OR_FILE [--dir DIR]

--dir defaults to $REASONINGREC_RATINGS_DIR, else <cache dir>/ratings (where the app writes).
`report` prints vote counts, win rates with bootstrap intervals, Bradley-Terry scores (more
than two systems), Likert means per criterion and system, and Krippendorff's alpha.
"""
from __future__ import annotations

from pathlib import Path

from . import positive_int


def register(sub) -> None:
    p = sub.add_parser("ratings", help="report, export or restore the human ratings")
    inner = p.add_subparsers(dest="ratings_command", metavar="ACTION", required=True)

    def common(q):
        q.add_argument("--dir", default=None,
                       help="ratings data dir (default: $REASONINGREC_RATINGS_DIR or "
                            "<cache dir>/ratings)")
        q.add_argument("--json", action="store_true", help="print one JSON object")

    r = inner.add_parser("report", help="statistics of the ratings so far")
    common(r)
    r.add_argument("--plot", default=None, help="also save the plot to this PNG file")
    r.add_argument("--boot", type=positive_int, default=2000, help="bootstrap resamples for intervals")
    r.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    r.set_defaults(func=report)

    e = inner.add_parser("export", help="write every vote to JSONL or CSV")
    common(e)
    e.add_argument("--out", required=True, help="output file, .jsonl or .csv")
    e.add_argument("--format", choices=["jsonl", "csv"], default=None,
                   help="override the format the suffix implies")
    e.add_argument("--counted", action="store_true",
                   help="only the votes the results count (blind, raters not flagged careless)")
    e.set_defaults(func=export)

    s = inner.add_parser("restore", help="add votes from JSONL shards or an export")
    common(s)
    s.add_argument("--from", dest="source", required=True,
                   help="a folder of *.jsonl shards, or one .jsonl file")
    s.set_defaults(func=restore)


def _store(args):
    from ..ratings.config import RatingsSettings
    from ..ratings.store import DB_NAME, RatingsStore
    settings = RatingsSettings.from_env(args.dir)
    if args.func is not restore and not (settings.data_dir / DB_NAME).is_file():
        raise FileNotFoundError(f"no ratings at {settings.data_dir / DB_NAME}: pass --dir or set "
                                "REASONINGREC_RATINGS_DIR to where the app stores them")
    return RatingsStore.open(settings.data_dir)


def report(args) -> dict:
    from ..ratings.report import build_report, report_figure, report_markdown
    from ..ratings.config import RatingsSettings
    rows = _store(args).votes()
    out = build_report(rows, n_boot=args.boot, seed=args.seed,
                       ids_per_address=RatingsSettings.from_env(args.dir).ids_per_address)
    if args.plot:
        Path(args.plot).parent.mkdir(parents=True, exist_ok=True)
        report_figure(out).savefig(args.plot, dpi=120)
        out["plot"] = args.plot
    if not args.json:
        print(report_markdown(out) + (f"\n\nplot: {args.plot}" if args.plot else ""))
        return None
    return out


def export(args) -> dict:
    from ..ratings.export import export_votes
    return export_votes(_store(args), args.out, args.format, only_counted=args.counted)


def restore(args) -> dict:
    import shutil
    import tempfile
    from ..ratings.sync import restore_from_folder
    source = Path(args.source)
    if not source.exists():
        raise FileNotFoundError(f"{source}: no such file or folder")
    if source.is_file() and source.suffix != ".jsonl":
        raise ValueError(f"{source}: not a .jsonl shard or export (restore reads JSONL only)")
    if source.is_dir() and not any(source.glob("*.jsonl")):
        raise ValueError(f"{source}: no *.jsonl shards in this folder")
    store = _store(args)
    if source.is_dir():
        out = restore_from_folder(store, source)
    else:
        with tempfile.TemporaryDirectory() as tmp:   # one file: read it as a one-shard folder
            shutil.copy(source, Path(tmp) / (source.stem + ".jsonl"))
            out = restore_from_folder(store, tmp)
    if out["skipped"] and not out["rows"]:
        raise ValueError(f"{source}: no vote rows, {len(out['skipped'])} bad line(s), first: "
                         f"{out['skipped'][0]}")
    return out
