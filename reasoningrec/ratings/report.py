"""The results of the ratings: counts, win rates, Bradley-Terry, Likert means, agreement, plots.

    from reasoningrec.ratings.report import build_report, report_markdown, report_figure
    report = build_report(store.votes(), n_boot=2000, seed=0)     # a JSON-able dict
    print(report_markdown(report)); report_figure(report).savefig("ratings.png")

    reasoningrec ratings report [--dir DIR] [--plot ratings.png] [--json]

Only blind votes of raters who passed their attention checks count (stats.counted_votes);
the counts say how many were left out. A system is "<role>: <model name>"; the versions
seen are listed. Intervals are 95% cluster-bootstrap intervals over samples.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from html import escape

from .schema import CHOICES, CRITERIA
from .stats import (bootstrap_mean, bradley_terry, careless_raters, counted_votes,
                    krippendorff_alpha)

BT_BOOT = 200   # refits for the Bradley-Terry intervals (each is a full MM fit)
TOP_ADDRESSES = 10
_MARKDOWN = re.compile(r"([\\`*_\[\]|~])")


def text(value) -> str:
    """A stored (possibly restored, so untrusted) value as inert Markdown: HTML escaped and
    Markdown punctuation backslashed, so no row can add a tag, link or table cell."""
    return _MARKDOWN.sub(r"\\\1", escape(str(value), quote=True))


def system_key(row: dict, side: str) -> str:
    return f"{row[f'role_{side}']}: {row[f'system_{side}']}"


def _r(x, nd=3):
    return None if x is None or x != x else round(float(x), nd)


def build_report(rows: list[dict], n_boot: int = 2000, seed: int = 0,
                 ids_per_address: int = 0) -> dict:
    careless = careless_raters(rows)
    counted = counted_votes(rows)
    report = {
        "votes": {"total": len(rows), "blind": sum(r["mode"] == "blind" for r in rows),
                  "attention_checks": sum(r["mode"] == "attention" for r in rows),
                  "failed_checks": sum(bool(r.get("attention_failed")) for r in rows),
                  "excluded_careless": sum(r["mode"] == "blind" and r["rater_id"] in careless
                                           for r in rows),
                  "counted": len(counted)},
        "raters": {"total": len({r["rater_id"] for r in rows}),
                   "signed_in": len({r["rater_id"] for r in rows if r["rater_kind"] == "hf"}),
                   "careless": len(careless), "counted": len({r["rater_id"] for r in counted})},
        "by_kind": {kind: sum(r["rater_kind"] == kind for r in rows) for kind in ("hf", "anon")},
        "addresses": _addresses(rows, ids_per_address),
        "samples": len({r["sample_id"] for r in counted}),
        "choices": {c: sum(r["choice"] == c for r in counted) for c in CHOICES},
    }
    versions = defaultdict(set)
    for r in counted:
        for s in "ab":
            versions[system_key(r, s)].add(r[f"version_{s}"])
    report["systems"] = {k: sorted(v) for k, v in sorted(versions.items())}
    report["pairs"] = _pairs(counted, n_boot, seed)
    report["bradley_terry"] = _bt(counted, seed) if len(versions) > 2 else None
    report["likert"] = _likert(counted, n_boot, seed)
    report["alpha"] = _alpha(counted)
    return report


def _addresses(rows, limit: int) -> dict:
    """Votes per salted IP hash: a skewed result cast from few addresses shows here. An
    address with more anonymous ids than the limit (restored rows, or a changed limit) is
    flagged."""
    votes = Counter(r["ip_hash"] for r in rows if r.get("ip_hash"))
    ids = defaultdict(set)
    for r in rows:
        if r.get("ip_hash") and r["rater_kind"] == "anon":
            ids[r["ip_hash"]].add(r["rater_id"])
    top = [{"address": str(h)[:8], "votes": n, "anon_ids": len(ids[h]),
            "flagged": bool(limit) and len(ids[h]) > limit}
           for h, n in votes.most_common(TOP_ADDRESSES)]
    return {"total": len(votes), "max_votes": max(votes.values(), default=0),
            "flagged": sum(bool(limit) and len(v) > limit for v in ids.values()),
            "limit": limit, "top": top}


def _outcomes(row: dict) -> tuple[str, str, float | None]:
    """(system on A, system on B, score of A: 1 win, .5 tie, 0 loss, None both bad)."""
    score = {"A": 1.0, "B": 0.0, "tie": 0.5, "both_bad": None}[row["choice"]]
    return system_key(row, "a"), system_key(row, "b"), score


def _pairs(rows, n_boot, seed) -> list[dict]:
    by_pair = defaultdict(list)
    for r in rows:
        a, b, score = _outcomes(r)
        x, y = sorted((a, b))
        by_pair[(x, y)].append((score if a == x or score is None else 1 - score, r["sample_id"]))
    out = []
    for (x, y), results in sorted(by_pair.items()):
        decided = [(s, c) for s, c in results if s is not None]
        mean, lo, hi = bootstrap_mean([s for s, _ in decided], [c for _, c in decided],
                                      n_boot=n_boot, seed=seed)
        out.append({"x": x, "y": y, "votes": len(results),
                    "x_wins": sum(s == 1.0 for s, _ in results),
                    "y_wins": sum(s == 0.0 for s, _ in results),
                    "ties": sum(s == 0.5 for s, _ in results),
                    "both_bad": sum(s is None for s, _ in results),
                    "x_win_rate": _r(mean), "ci": [_r(lo), _r(hi)]})
    return out


def _bt(rows, seed) -> dict:
    import numpy as np
    games = [(a, b, s, r["sample_id"]) for r in rows for a, b, s in [_outcomes(r)] if s is not None]
    fit = bradley_terry([g[:3] for g in games], prior=0.5)
    samples = sorted({g[3] for g in games})
    by_sample = defaultdict(list)
    for g in games:
        by_sample[g[3]].append(g[:3])
    rng = np.random.default_rng(seed)
    draws = defaultdict(list)
    for _ in range(BT_BOOT):
        pick = rng.integers(0, len(samples), len(samples))
        boot = bradley_terry([g for k in pick for g in by_sample[samples[k]]], prior=0.5)
        for system, value in boot.items():
            draws[system].append(value)
    return {s: {"score": _r(v), "ci": [_r(np.percentile(draws[s], 2.5)),
                                        _r(np.percentile(draws[s], 97.5))]}
            for s, v in sorted(fit.items(), key=lambda kv: -kv[1])}


def _likert(rows, n_boot, seed) -> dict:
    out = {}
    for criterion in CRITERIA:
        per_system = defaultdict(list)
        for r in rows:
            for s in "ab":
                per_system[system_key(r, s)].append((r[f"{criterion}_{s}"], r["sample_id"]))
        out[criterion] = {}
        for system, vals in sorted(per_system.items()):
            mean, lo, hi = bootstrap_mean([v for v, _ in vals], [c for _, c in vals],
                                          n_boot=n_boot, seed=seed)
            out[criterion][system] = {"n": len(vals), "mean": _r(mean, 2), "ci": [_r(lo, 2), _r(hi, 2)]}
    return out


def _alpha(rows) -> dict:
    """Ordinal alpha per criterion; a unit is one explanation text (sample, system, version),
    its values are the scores different raters gave it."""
    out = {}
    for criterion in CRITERIA:
        units = defaultdict(list)
        for r in rows:
            for s in "ab":
                units[(r["sample_id"], system_key(r, s), r[f"version_{s}"])].append(r[f"{criterion}_{s}"])
        pairable = [u for u in units.values() if len(u) >= 2]
        out[criterion] = {"alpha": _r(krippendorff_alpha(pairable, "ordinal")),
                          "units": len(pairable), "values": sum(map(len, pairable))}
    return out


def report_markdown(report: dict) -> str:
    v, ra = report["votes"], report["raters"]
    lines = [f"**{v['counted']}** votes counted ({v['blind']} blind, {v['attention_checks']} "
             f"attention checks of which {v['failed_checks']} failed, {v['excluded_careless']} "
             f"blind votes left out from {ra['careless']} careless rater(s)); {ra['counted']} "
             f"raters, {report['samples']} samples. Choices: "
             + ", ".join(f"{k} {n}" for k, n in report["choices"].items()) + "."]
    kind, ad = report.get("by_kind"), report.get("addresses")
    if kind:
        lines[0] += f" Votes by signed-in raters: {kind['hf']}, anonymous: {kind['anon']}."
    if report["pairs"]:
        lines += ["", "| comparison | votes | wins | ties | both bad | win rate (95% CI) |",
                  "|---|---|---|---|---|---|"]
        for p in report["pairs"]:
            lines.append(f"| {text(p['x'])} vs {text(p['y'])} | {p['votes']} | {p['x_wins']}–{p['y_wins']} | "
                         f"{p['ties']} | {p['both_bad']} | {p['x_win_rate']} [{p['ci'][0]}, {p['ci'][1]}] |")
    if report["bradley_terry"]:
        lines += ["", "| rank | system | Bradley–Terry log-strength (95% CI) |", "|---|---|---|"]
        lines += [f"| {n} | {text(s)} | {b['score']} [{b['ci'][0]}, {b['ci'][1]}] |"
                  for n, (s, b) in enumerate(report["bradley_terry"].items(), 1)]
    if any(report["likert"].values()):
        systems = sorted({s for c in report["likert"].values() for s in c})
        lines += ["", "| criterion | " + " | ".join(map(text, systems)) + " | Krippendorff α (ordinal) |",
                  "|---" * (len(systems) + 2) + "|"]
        for criterion, per in report["likert"].items():
            cells = [f"{per[s]['mean']} [{per[s]['ci'][0]}, {per[s]['ci'][1]}]" if s in per else "–"
                     for s in systems]
            a = report["alpha"][criterion]
            alpha = "n/a (no overlap yet)" if a["alpha"] is None else f"{a['alpha']} ({a['units']} texts)"
            lines.append(f"| {criterion} | " + " | ".join(cells) + f" | {alpha} |")
    if ad and ad["top"]:
        lines += ["", f"Votes per address (salted IP hash; {ad['total']} addresses, at most "
                  f"{ad['limit'] or 'any number of'} anonymous ids each"
                  + (f"; **{ad['flagged']} flagged** with more" if ad["flagged"] else "") + "):",
                  "", "| address | votes | share | anonymous ids |", "|---|---|---|---|"]
        total = report["votes"]["total"]
        lines += [f"| {text(a['address'])} | {a['votes']} | {a['votes'] / total:.0%} | "
                  f"{a['anon_ids']}{' ⚠ flagged' if a['flagged'] else ''} |" for a in ad["top"]]
    return "\n".join(lines)


def _wrap(name: str, width: int = 32) -> str:
    """A system's whole name on lines of `width` characters (a tick label is never cut)."""
    import textwrap
    return "\n".join(textwrap.wrap(name, width)) or name


def report_figure(report: dict):
    """Win rates and Likert means with their intervals (and Bradley-Terry when present)."""
    from matplotlib.figure import Figure   # not pyplot: no global figure registry to leak into
    panels = 2 + bool(report["bradley_terry"])
    lines = max(sum(2 + _wrap(p["x"]).count("\n") + _wrap(p["y"]).count("\n") for p in report["pairs"]),
                sum(1 + _wrap(s).count("\n") for s in report["bradley_terry"] or {}))
    fig = Figure(figsize=(5.5 * panels, max(3.8, 0.14 * lines + 1.0)))   # room for whole names
    axes = fig.subplots(1, panels, squeeze=False)
    ax = axes[0][0]
    pairs = report["pairs"]
    for n, p in enumerate(pairs):
        if p["x_win_rate"] is not None:
            ax.errorbar(p["x_win_rate"], n, xerr=[[p["x_win_rate"] - p["ci"][0]],
                                                   [p["ci"][1] - p["x_win_rate"]]], fmt="o", capsize=4)
    ax.axvline(0.5, color="grey", lw=0.8, ls="--")
    ax.set_yticks(range(len(pairs)), [f"{_wrap(p['x'])}\nvs {_wrap(p['y'])}" for p in pairs], fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_title("Win rate (ties = ½), 95% CI", fontsize=9)
    ax = axes[0][1]
    systems = sorted({s for c in report["likert"].values() for s in c})
    width = 0.8 / max(1, len(systems))
    for k, system in enumerate(systems):
        xs, ys, err = [], [], [[], []]
        for n, (criterion, per) in enumerate(report["likert"].items()):
            if system in per and per[system]["mean"] is not None:
                m, (lo, hi) = per[system]["mean"], per[system]["ci"]
                xs.append(n + k * width)
                ys.append(m)
                err[0].append(m - lo)
                err[1].append(hi - m)
        ax.bar(xs, ys, width, yerr=err, capsize=3, label=_wrap(system, 48))
    ax.set_xticks([n + width * (len(systems) - 1) / 2 for n in range(len(CRITERIA))], CRITERIA, fontsize=8)
    ax.set_ylim(1, 5)
    ax.set_title("Likert means (1–5), 95% CI", fontsize=9)
    ax.legend(fontsize=6)
    if report["bradley_terry"]:
        ax = axes[0][2]
        items = list(report["bradley_terry"].items())
        for n, (s, b) in enumerate(items):
            ax.errorbar(b["score"], n, xerr=[[b["score"] - b["ci"][0]], [b["ci"][1] - b["score"]]],
                        fmt="o", capsize=4)
        ax.set_yticks(range(len(items)), [_wrap(s) for s, _ in items], fontsize=7)
        ax.set_title("Bradley–Terry log-strength, 95% CI", fontsize=9)
    fig.tight_layout()
    return fig
