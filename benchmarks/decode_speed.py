"""The served student's own speed: prompt and decode tokens/s through the app's code path, with
llama.cpp's raw speed on the same GGUF + LoRA beside it as the ceiling.

    python benchmarks/decode_speed.py                       # each dataset's served student
    python benchmarks/decode_speed.py --users 2 --max-tokens 128 --out /tmp/results

App path: AppService (the students and prompt options the app serves) and its LiveExplainer's
`stream`, what the Run button and /explain call, with no kept prompt state (a cold prompt:
prompt tokens/s = prompt tokens / time to the prediction, rendering included) and a forced
length (`--max-tokens` new tokens unless the student stops first; decode tokens/s = the
generated tokens after the first / the time after the first). Raw: a plain llama_cpp.Llama on
the same files evaluating the same prompt tokens in one batch, then greedy tokens one
llama_decode each (speed_common.py). Appends one row per pool user to <out>/decode_speed.md.
"""
from __future__ import annotations

import argparse
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from speed_common import (RESULTS, load, machine, raw_decode_speed, raw_llama,  # noqa: E402
                          raw_prompt_speed, renice)

from reasoningrec.ui.service import AppService  # noqa: E402

HEADER = ("| date, machine | load before; after | dataset:user | student | prompt tokens |"
          " app prompt tok/s | raw prompt tok/s | generated tokens | app decode tok/s |"
          " raw decode tok/s |\n|---|---|---|---|---|---|---|---|---|---|\n")


def app_run(explainer, ds, sample) -> tuple[int, float, int, float]:
    """(prompt tokens, prompt tok/s, generated tokens, decode tok/s) of one cold app run."""
    explainer.forget()
    text, stats = "", {}
    for kind, value in explainer.stream(ds, sample):
        if kind == "token":
            text += value
        elif kind == "done":
            stats = value
    generated = len(explainer.backend.tokenize(text)) - len(explainer.backend.tokenize(""))
    decode_s = stats["seconds"] - stats["ttft_s"]
    return (stats["prompt_tokens"], stats["prompt_tokens"] / stats["prediction_s"], generated,
            (generated - 1) / decode_s if generated > 1 and decode_s > 0 else float("nan"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=1, help="pool users per dataset (default 1)")
    ap.add_argument("--max-tokens", type=int, default=None,
                    help="explanation length cap (default: the app's, each student's own)")
    ap.add_argument("--model", default=None,
                    help="serve this student for every dataset (default: each one's own)")
    ap.add_argument("--out", default=str(RESULTS),
                    help="folder for decode_speed.md (default benchmarks/results/)")
    args = ap.parse_args()
    reniced, load_before = renice(), load()
    service = AppService.start(student=args.model, max_new_tokens=args.max_tokens)
    rows, raws = [], {}
    for name, users in service.pool.users.items():
        served = service.students[name]
        explainer, ds = served.explainer, service.pool.datasets[name]
        if explainer.backend.name not in raws:
            raws[explainer.backend.name] = raw_llama(explainer.backend)
        llm = raws[explainer.backend.name]
        for user in users[:args.users]:
            n_prompt, app_pp, n_gen, app_tg = app_run(explainer, ds, user.sample)
            text = explainer.scorer().render(ds, user.sample).text
            tokens = explainer.backend.tokenize(text)
            raw_pp = raw_prompt_speed(llm, tokens)
            raw_tg = raw_decode_speed(llm, tokens, n=max(2, n_gen))
            rows.append((name, user.user_id, served.info.name, n_prompt, app_pp, raw_pp, n_gen,
                         app_tg, raw_tg))
            print(f"{name}:{user.user_id} prompt {n_prompt} tokens: app {app_pp:.0f} tok/s, raw "
                  f"{raw_pp:.0f}; decode {n_gen} tokens: app {app_tg:.1f} tok/s, raw "
                  f"{raw_tg:.1f}", flush=True)
    out = os.path.join(args.out, "decode_speed.md")
    os.makedirs(args.out, exist_ok=True)
    new = not os.path.exists(out)
    with open(out, "a") as f:
        if new:
            f.write(HEADER)
        for name, uid, spec, n_prompt, app_pp, raw_pp, n_gen, app_tg, raw_tg in rows:
            f.write(f"| {machine()}{'' if reniced else ' (not reniced)'} | {load_before}; "
                    f"{load()} | {name}:{uid} | {spec} | {n_prompt} | {app_pp:.0f} | "
                    f"{raw_pp:.0f} | {n_gen} | {app_tg:.1f} | {raw_tg:.1f} |\n")
    print(f"appended to {out}")


if __name__ == "__main__":
    main()
