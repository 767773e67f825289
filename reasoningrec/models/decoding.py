"""Decoding settings of generated explanations: length cap, loop stop, llama.cpp's penalties.

    from reasoningrec.models.decoding import decode_settings, add_decode_args, decode_from_args
    decode_settings({"repeat_penalty": 1.2}, "assets/x/student.json")  # validated, non-default keys
    for_dataset(card["decode"], card.get("decode_by_dataset"), "fashion")  # a dataset's own
    backend.stream(prompt, penalties=penalties(decode))  # this call's (LLMScorer(decode=...))
    max_tokens(decode)                        # the explanation's length cap: 160 unless set
    stop_loop_ngram(decode)                   # 0, or n: stop before a word n-gram's 3rd time

A shipped student declares its own in student.json ("decode": {...}, and per dataset
"decode_by_dataset": {"fashion": {...}} over it; read in one place, scoring/students.py), so
`eval`, `predict`, `rank`, the app and the pool builder all generate with it;
`reasoningrec eval --repeat-penalty X` (and the other flags here) overrides it for a run.
"max_tokens" caps the explanation (new tokens; generation stops earlier at the end of turn): a
student trained on longer teacher rationales is given room to reach its conclusion (the Fashion
students learnt Mixtral's, median 164 words, with completions capped at 256 tokens).
"stop_loop_ngram" n (0 = off) ends an explanation where a word n-gram would occur a third time,
that occurrence left out (reasoningrec/repeats.py stop_when_looping; the rule of the loops
metric, so a stopped text never counts as looping): any backend, applied to the text as it
streams.
Generation is greedy (temperature 0) everywhere; llama-cpp-python 0.3.36 builds its sampler
chain as penalties -> greedy (Llama._init_sampler), so the penalties apply under greedy too.
The penalty window is the last 64 generated tokens (Llama(last_n_tokens_size=64); prompt
tokens are not in it, only tokens the sampler accepted). For each token in the window llama.cpp
divides a positive logit by repeat_penalty (multiplies a negative one), then subtracts
frequency_penalty x its count and presence_penalty once.
"""
from __future__ import annotations

MAX_TOKENS = 160  # an explanation's length cap where the student's card sets none
DEFAULTS = {"repeat_penalty": 1.0, "frequency_penalty": 0.0, "presence_penalty": 0.0,
            "max_tokens": MAX_TOKENS, "stop_loop_ngram": 0}
MAX_TOKENS_LIMIT = 1024  # a larger cap is a typo: no student here writes more than ~300 tokens
WHOLE = {"max_tokens": (1, MAX_TOKENS_LIMIT), "stop_loop_ngram": (0, 32)}  # whole numbers: range
NOT_SAMPLER = ("max_tokens", "stop_loop_ngram")  # applied by the scorer, not by the backend
HELP = {
    "repeat_penalty": "llama.cpp repeat penalty over the last 64 generated tokens (1.0 = off)",
    "frequency_penalty": "llama.cpp frequency penalty: logit minus this x the token's count in "
                         "the last 64 generated tokens (0 = off)",
    "presence_penalty": "llama.cpp presence penalty: logit minus this once for a token in the "
                        "last 64 generated tokens (0 = off)",
    "max_tokens": "most tokens an explanation may have (a whole number, 1 to "
                  f"{MAX_TOKENS_LIMIT}; the app's and eval's cap: 160 unless the student's card "
                  "gives another)",
    "stop_loop_ngram": "stop an explanation before a word n-gram of this length occurs a third "
                       "time (a whole number from 0 = off to 32; 6 is the loops metric's n)",
}


def decode_settings(raw, where: str = "decode settings") -> dict:
    """The validated settings of `raw` (a dict or None), keys at their default left out.
    Raises ValueError naming `where` for an unknown key or a bad value."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: \"decode\" must be an object, got {type(raw).__name__}")
    out = {}
    for key, value in raw.items():
        if key not in DEFAULTS:
            raise ValueError(f"{where}: unknown decode setting {key!r} "
                             f"(known: {', '.join(DEFAULTS)})")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{where}: decode setting {key} must be a number, got {value!r}")
        if key in WHOLE:
            low, high = WHOLE[key]
            if not low <= value <= high or value != int(value):  # NaN fails the comparison
                raise ValueError(f"{where}: {key} must be a whole number from {low} to {high}, "
                                 f"got {value!r}")
            value = int(value)
        if key == "repeat_penalty" and not value > 0:
            raise ValueError(f"{where}: repeat_penalty must be > 0, got {value}")
        if float(value) != DEFAULTS[key]:
            out[key] = value if key in WHOLE else float(value)
    return out


def for_dataset(decode, by_dataset, dataset: str | None, where: str = "decode settings") -> dict:
    """The settings a student generates with on `dataset`: its card's "decode" with that
    dataset's entry of "decode_by_dataset" laid over it, validated (a card may say
    {"decode": {"repeat_penalty": 1.1}, "decode_by_dataset": {"fashion": {"repeat_penalty": 1.0}}}:
    one adapter, each dataset's best setting). Every entry is checked, used or not."""
    decode_settings(decode, where)
    by_dataset = {} if by_dataset is None else by_dataset
    if not isinstance(by_dataset, dict):
        raise ValueError(f"{where}: \"decode_by_dataset\" must map dataset names to decode "
                         f"settings, got {type(by_dataset).__name__}")
    for name, extra in by_dataset.items():
        decode_settings(extra, f"{where}, decode_by_dataset {name!r}")
    return decode_settings({**(decode or {}), **(by_dataset.get(dataset) or {})}, where)


def parse_pairs(text: str, where: str) -> dict:
    """'repeat_penalty=1.0,max-tokens=256' -> {"repeat_penalty": 1.0, "max_tokens": 256}:
    validated, values at their default kept (they override a card's). ValueError names `where`."""
    out: dict = {}
    for pair in text.split(","):
        key, eq, value = (part.strip() for part in pair.partition("="))
        try:
            number = float(value) if eq else None
        except ValueError:
            number = None
        if number is None:
            raise ValueError(f"{where}: expected KEY=NUMBER, got {pair.strip()!r}")
        key = key.replace("-", "_")
        out[key] = int(number) if key in WHOLE and number == int(number) else number
    decode_settings(out, where)
    return out


def parse_decode_for(text: str) -> tuple[str, dict]:
    """'fashion:repeat_penalty=1.0,max_tokens=256' -> ("fashion", {...}) for a card's
    "decode_by_dataset" (training.ship --decode-for). Raises ValueError naming the flag."""
    dataset, sep, pairs = text.partition(":")
    if not sep or not dataset.strip() or not pairs.strip():
        raise ValueError(f"--decode-for {text!r}: expected DATASET:KEY=VALUE[,KEY=VALUE...], "
                         "e.g. fashion:repeat_penalty=1.0")
    return dataset.strip(), parse_pairs(pairs, f"--decode-for {text!r}")


def penalties(decode: dict) -> dict:
    """The sampler settings of `decode` (what a generation call or load_backend takes)."""
    return {k: v for k, v in decode.items() if k not in NOT_SAMPLER}


def call_penalties(own: dict, given: dict | None) -> dict:
    """Every penalty one generation call runs with: `given` (the call's, over plain greedy),
    or the backend's `own` (set when it was built) when the call gives None."""
    if given is None:
        return dict(own)
    return {**{k: v for k, v in DEFAULTS.items() if k not in NOT_SAMPLER}, **given}


def max_tokens(decode: dict | None) -> int:
    """The explanation length cap `decode` sets (DEFAULTS' 160 when it sets none)."""
    return int((decode or {}).get("max_tokens", MAX_TOKENS))


def stop_loop_ngram(decode: dict | None) -> int:
    """The n of the loop stop `decode` sets (0: off)."""
    return int((decode or {}).get("stop_loop_ngram", 0))


def describe(decode: dict) -> str:
    """'greedy' or 'greedy, repeat_penalty=1.2' (for pages, tables and model versions)."""
    return ", ".join(["greedy", *(f"{k}={v:g}" for k, v in sorted(decode.items()))])


def slug(decode: dict) -> str:
    """A folder-name part: '' for plain greedy, else e.g. 'rp1.2' ('fp', 'pp' for the others)."""
    short = {"repeat_penalty": "rp", "frequency_penalty": "fp", "presence_penalty": "pp",
             "max_tokens": "mt", "stop_loop_ngram": "sl"}
    return "-".join(f"{short[k]}{v:g}" for k, v in sorted(decode.items()))


def add_decode_args(parser, default: str = "the student's own (student.json \"decode\"), "
                                           "else off") -> None:
    """--repeat-penalty, --frequency-penalty, --presence-penalty, --max-tokens (None when not
    given)."""
    for key, text in HELP.items():
        parser.add_argument(f"--{key.replace('_', '-')}", dest=key, type=float, default=None,
                            help=text if key == "max_tokens" else f"{text}; default: {default}")


def decode_from_args(args) -> dict:
    """The decode flags given on the command line (None = not given), validated."""
    given = {k: getattr(args, k) for k in DEFAULTS if getattr(args, k, None) is not None}
    decode_settings(given, "flags")  # validates; explicit defaults stay (they override a card)
    return given


LAST_N = 64  # llama-cpp-python's Llama(last_n_tokens_size=64): the penalty window


def hf_logits_processor(penalties: dict, prompt_length: int):
    """The same penalties for transformers' generate (the ZeroGPU path serves the students
    through it): llama.cpp's rule over the last LAST_N *generated* tokens (HF's own
    repetition_penalty would also count the prompt). None when every penalty is off."""
    if not decode_settings(penalties):
        return None
    import torch
    from transformers import LogitsProcessor, LogitsProcessorList

    repeat = penalties.get("repeat_penalty", 1.0)
    freq, present = penalties.get("frequency_penalty", 0.0), penalties.get("presence_penalty", 0.0)

    class LlamaCppPenalties(LogitsProcessor):
        def __call__(self, input_ids, scores):
            for row in range(input_ids.shape[0]):
                window = input_ids[row, prompt_length:][-LAST_N:]
                if window.numel() == 0:
                    continue
                ids, counts = torch.unique(window, return_counts=True)
                s = scores[row, ids]
                s = torch.where(s <= 0, s * repeat, s / repeat)
                scores[row, ids] = s - counts.to(s.dtype) * freq - present
            return scores

    return LogitsProcessorList([LlamaCppPenalties()])
