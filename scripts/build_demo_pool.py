"""Build the app's demo pool (assets/demo_pool/) from the real datasets and the paper's outputs.

    .venv/bin/python scripts/build_demo_pool.py --data-dir ../shared/data     # the shipped pool
    .venv/bin/python scripts/build_demo_pool.py --data-dir ../shared/data --student fashion=NAME
    .venv/bin/python scripts/build_demo_pool.py --data-dir ../shared/data --ml1m-users 2 \
        --fashion-users 1 --out /tmp/pool                                     # a quick try

Users are drawn with a fixed seed from the test samples that have a released teacher
rationale (the dataset's main variant: Fashion `mixtral-8x7b`, ML-1M `mixtral-8x7b-wo_profile`)
and, where the authors released their student's outputs (Fashion), an output of --authors-run:
the paper's own 800-user test draw; where the teacher read a user profile (Fashion), only users
with one (445 of the 800). Each user's test target gets three texts: Mixtral's
rationale and the authors' student output as released (pool_text.display_text: the answer
phrase removed, an unfinished last sentence cut), and our student's explanation and P(Yes),
generated here, ahead of time, with the app's settings (--student, default per dataset
scoring.registry.default_student; --max-tokens) and named with a version fingerprint. A drawn user with
a text that echoes its prompt or loops (pool_text.text_problems) is left out and counted.
Other candidates: up to --extra items the user rated outside the shown history (one liked,
one disliked when both exist), filled with never-rated items; they have no texts. Every
candidate carries its collaborative evidence (training ratings only). Only the items the pool
references are written, with the short fields prompts show. Our student's texts are cached
in --cache (JSONL), so an interrupted run resumes.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter
from dataclasses import asdict, replace
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # run from anywhere
from reasoningrec.config import cache_dir  # noqa: E402
from reasoningrec.data import load_dataset  # noqa: E402
from reasoningrec.demo_pool import POOL_DIR, POOL_VERSION, System  # noqa: E402
from reasoningrec.scoring.evidence import EvidenceIndex  # noqa: E402
from reasoningrec.pool_text import display_text, prompt_instructions, stated_prediction, text_problems  # noqa: E402
from reasoningrec.prompts.text import DESCRIPTION_KEYS, HIDDEN_KEYS  # noqa: E402
from reasoningrec.scoring.students import student_backend, student_for, student_version  # noqa: E402

DATASETS = ("ml1m", "fashion")
AUTHORS_RUN = "llama2-7b-chat/sample256_valsample800_lr1e-4_valauc"
TEACHER_MODELS = {"mixtral-8x7b": "Mixtral-8x7B-Instruct"}
ABLATIONS = {"wo_profile": "without a user profile", "wo_desc": "without item descriptions"}
LIKED = {"ml1m": lambda r: r >= 3}  # the paper's rule per dataset; Amazon: rating > 3


def teacher_system(variant: str) -> System:
    base, _, ablation = variant.partition("-wo_")
    model = TEACHER_MODELS.get(base, base)
    title = f"{model}, the paper's teacher, told the true answer"
    if ablation:
        title += f", {ABLATIONS.get('wo_' + ablation, 'without ' + ablation)}"
    return System("teacher", model, title, f"{variant} (test rationales released by the authors)",
                  "Written with the user's real answer in its prompt: it explains the outcome "
                  "rather than predicting it.")


def authors_system(ds, run: str) -> System:
    from reasoningrec.evaluate.metrics import roc_auc
    full = ds.authors.resolve(run)
    model, name = full.split("/", 1)
    rows = list(ds.authors[full].values())
    auc = roc_auc([r.label for r in rows], [r.p_yes for r in rows])
    m = re.search(r"sample(\d+)_valsample\d+_lr([0-9.e-]+)", name)
    setting = f"K={m.group(1)}, lr {m.group(2)}" if m else name
    pretty = {"llama2-7b-chat": "Llama-2-7B-chat + LoRA"}.get(model, model)
    return System("authors", pretty, f"{pretty}, the paper's student ({setting})", full,
                  f"The authors' released output for their {len(rows)}-user test draw (AUC "
                  f"{auc:.4f} on it); its text stops at their generation limit.")


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


class StudentWriter:
    """Our student's explanation per sample, generated once per model version (cached)."""

    def __init__(self, dataset: str, name: str | None, max_tokens: int | None, index,
                 cache: Path):
        from reasoningrec.models.decoding import max_tokens as own_cap
        from reasoningrec.scoring.llm import LLMScorer
        from reasoningrec.scoring.options import PromptOptions
        self.info = student_for(dataset, name)
        options = PromptOptions(**self.info.options)
        cap = max_tokens or own_cap(self.info.decode)   # the app's: the card's unless capped
        self.version = student_version(self.info, cap)
        self.scorer = LLMScorer(student_backend(self.info)[0], "student", options, cap,
                                evidence_source=lambda ds, s: index.evidence(s),
                                decode=self.info.decode)   # its penalties and loop stop
        self.cache_file = cache
        self.rows = {}
        if cache.is_file():
            for line in cache.read_text(encoding="utf-8").splitlines():
                row = json.loads(line) if line.strip() else None
                # the same version, generated with these settings (rows from before the
                # builder passed them, 2026-12-01, lack "decode": their texts missed the loop stop)
                if row and row["version"] == self.version and row.get("decode") == self.info.decode:
                    self.rows[row["sample_id"]] = row

    def system(self) -> System:
        taught = f"; taught by {self.info.teacher}" if self.info.teacher else ""
        return System("student", self.info.title, self.info.title,
                      self.version,
                      f"Generated ahead of time by scripts/build_demo_pool.py with the app's "
                      f"prompt and length{taught}.")

    def text(self, ds, sample) -> dict:
        if sample.sample_id not in self.rows:
            start = time.perf_counter()
            pred = self.scorer.predict(ds, sample, explain=True)
            row = {"sample_id": sample.sample_id, "version": self.version, "label": pred.label,
                   "decode": self.info.decode, "p_yes": round(pred.p_yes, 6),
                   "raw": pred.rationale or "",
                   "seconds": round(time.perf_counter() - start, 2)}
            with self.cache_file.open("a", encoding="utf-8") as f:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
            self.rows[sample.sample_id] = row
            print(f"  student {sample.sample_id}: P(Yes) {row['p_yes']:.3f}, {row['seconds']} s",
                  flush=True)
        row = self.rows[sample.sample_id]
        return {"label": row["label"], "p_yes": row["p_yes"], "text": display_text(row["raw"])}


def released_texts(ds, sample, variant: str, run: str | None) -> dict | None:
    """Mixtral's rationale and the authors' output for `sample`; None when one is missing."""
    t = ds.teacher_rationale(sample, variant)
    if t is None:
        return None
    texts = {"teacher": {"label": t.label, "text": display_text(t.text, "teacher")}}
    if run:
        a = ds.authors_output(run, sample)
        if a is None:
            return None
        said = stated_prediction(a.explanation)
        texts["authors"] = {"label": int(a.p_yes >= 0.5) if said is None else said,
                            "p_yes": round(a.p_yes, 6), "text": display_text(a.explanation, "authors")}
    return texts


def build_dataset(name: str, args, n_users: int) -> tuple[dict, dict]:
    ds = load_dataset(name, args.data_dir)
    variant = ds.main_teacher
    if variant is None or "test" not in ds.teacher.get(variant, {}):
        sys.exit(f"error: {name} has no released teacher test rationales (teacher/<variant>/test.jsonl)")
    run = args.authors_run if args.authors_run and args.authors_run in ds.authors else None
    index = EvidenceIndex.fit(ds)
    cache = Path(args.cache)
    cache.parent.mkdir(parents=True, exist_ok=True)
    writer = StudentWriter(name, args.student.get(name) or args.student.get("*"), args.max_tokens,
                           index, cache)
    systems = {"teacher": teacher_system(variant), "student": writer.system()}
    if run:
        systems["authors"] = authors_system(ds, run)
    # a teacher that read a profile talks about it: its users need one on the page too
    need_profile = "wo_profile" not in variant
    eligible = [s for s in sorted(ds.splits["test"], key=lambda s: (len(s.key or s.user_id), s.key or s.user_id))
                if released_texts(ds, s, variant, run) is not None
                and (not need_profile or (ds.users.get(s.user_id) and ds.users[s.user_id].profile))]
    picked, left_out = [], Counter()
    for s in random.Random(args.seed).sample(eligible, len(eligible)):
        if len(picked) == n_users:
            break
        texts = released_texts(ds, s, variant, run)
        instructions = prompt_instructions(ds, s)
        bad = [f"{role}: {p.split(':')[0]}" for role, t in texts.items()
               for p in text_problems(t["text"], instructions)]
        if not bad:
            texts["student"] = writer.text(ds, s)
            bad = [f"student: {p.split(':')[0]}" for p in text_problems(texts["student"]["text"], instructions)]
        if bad:
            left_out.update(bad)
            print(f"  left out {s.sample_id}: {', '.join(bad)}", flush=True)
            continue
        picked.append((s, texts))
    print(f"{name}: {len(picked)} users of {len(eligible)} eligible; left out {dict(left_out)}", flush=True)
    wanted = {s.user_id for s, _ in picked}
    ratings: dict[str, dict[str, float]] = {}
    for r in ds.interactions:
        if r.user_id in wanted:
            ratings.setdefault(r.user_id, {})[r.item_id] = r.rating
    users, referenced = [], set()
    for s, texts in picked:
        cands = []
        for item_id, label in pick_candidates(ds, s, ratings, args.extra, args.seed):
            cands.append({"item_id": item_id, "label": label,
                          "texts": texts if item_id == s.target else {},
                          "evidence": index.evidence(replace(s, target=item_id, label=label or 0))})
        user = ds.users.get(s.user_id)
        users.append({"user_id": s.user_id, "split": s.split, "key": s.key,
                      "demographics": user.demographics if user else "",
                      "profile": user.profile if user else None,
                      "history": [[h.item_id, int(h.liked)] for h in s.history],
                      "target": s.target, "label": s.label, "candidates": cands})
        referenced |= {h.item_id for h in s.history} | {c["item_id"] for c in cands}
    order = sorted(referenced, key=lambda x: (len(x), x))
    block = {"domain": ds.domain, "systems": {k: {f: v for f, v in asdict(sys_).items() if f != "role"}
                                              for k, sys_ in systems.items()},
             "eligible_users": len(eligible), "left_out": dict(left_out), "users": users,
             "item_evidence": {i: index.item_evidence(i) for i in order}}
    return block, {i: short_item(ds.item(i)) for i in order}


def parse_students(values: list[str]) -> dict[str, str]:
    """["fashion=student-x", "student"] -> {"fashion": "student-x", "*": "student"}."""
    out = {}
    for v in values:
        dataset, sep, name = v.partition("=")
        if sep and dataset not in DATASETS:
            sys.exit(f"error: --student {v!r}: unknown dataset {dataset!r} ({', '.join(DATASETS)})")
        out[dataset if sep else "*"] = name if sep else v
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", default=None, help="folder with the datasets (default: config)")
    ap.add_argument("--out", default=str(POOL_DIR), help="where to write pool.json, items.json, ATTRIBUTION.md")
    ap.add_argument("--seed", type=int, default=42, help="seed for drawing users and candidates")
    ap.add_argument("--ml1m-users", type=int, default=30, help="ML-1M users to draw")
    ap.add_argument("--fashion-users", type=int, default=15, help="Fashion users to draw")
    ap.add_argument("--extra", type=int, default=2, help="candidates besides the test target")
    ap.add_argument("--authors-run", default=AUTHORS_RUN,
                    help="the authors' student run shown where released (\"\" = none)")
    ap.add_argument("--student", action="append", default=[], metavar="[DATASET=]NAME",
                    help="our student: a shipped short name or a model spec, for all datasets "
                         "or one (repeatable); default: scoring.registry.default_student(dataset)")
    ap.add_argument("--max-tokens", type=int, default=None,
                    help="our student's explanation length cap in tokens (default: the app's, "
                         "each student's own: student.json \"decode\", else 160)")
    ap.add_argument("--cache", default=str(cache_dir() / "demo_pool_student.jsonl"),
                    help="JSONL of our student's generated texts (resumes)")
    args = ap.parse_args(argv)
    args.student = parse_students(args.student)
    for flag in ("ml1m_users", "fashion_users", "extra", "max_tokens"):
        if getattr(args, flag) is not None and getattr(args, flag) < (0 if flag == "extra" else 1):
            sys.exit(f"error: --{flag.replace('_', '-')} must be positive")
    start = time.perf_counter()
    pool = {"version": POOL_VERSION, "seed": args.seed, "built_by": "scripts/build_demo_pool.py",
            "built_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "command": "scripts/build_demo_pool.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "datasets": {}}
    all_items = {}
    for name in DATASETS:
        pool["datasets"][name], all_items[name] = build_dataset(
            name, args, getattr(args, f"{name}_users"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "pool.json").write_text(json.dumps(pool, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (out / "items.json").write_text(json.dumps(all_items, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (out / "ATTRIBUTION.md").write_text(attribution(pool, all_items), encoding="utf-8")
    print(f"wrote {out} in {time.perf_counter() - start:.0f} s")


def attribution(pool: dict, items: dict) -> str:
    counts = ", ".join(f"{n}: {len(v['users'])} users, {len(items[n])} items"
                       for n, v in pool["datasets"].items())
    roles = {"teacher": "teacher, released", "authors": "the paper's student, released",
             "student": "our student, generated by this script"}
    systems = "\n".join(f"  - {n} ({roles[role]}): {s['title']} ({s['version']})"
                        for n, v in pool["datasets"].items() for role, s in v["systems"].items())
    return ATTRIBUTION.format(counts=counts, seed=pool["seed"], systems=systems)


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
- The 25-word movie summaries, product descriptions, user profiles (Mixtral-8x7B-Instruct), the
  train/valid/test protocol, the **teacher rationales** (Mixtral-8x7B-Instruct, told the true
  answer) and the **paper's student outputs** (Llama-2-7B-chat + LoRA) come from the
  ReasoningRec authors' repositories (MIT), `millenniumbismay/llm-based-seq-rec`:
  Millennium Bismay, Xiangjue Dong, James Caverlee. 2025. *ReasoningRec: Bridging
  Personalized Recommendations and Human-Interpretable Explanations through LLM Reasoning.*
  Findings of NAACL. arXiv:2410.23180. Shown without their "Prediction: Yes/No" phrase (the
  answer is shown apart), a last unfinished sentence cut and marked "…".
- The texts per dataset and role:
{systems}
"""

if __name__ == "__main__":
    main()
