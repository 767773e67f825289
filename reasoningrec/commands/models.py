"""`reasoningrec models`: where the offline default models resolve on this machine."""
from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("models", help="show the offline default models and their files")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args) -> dict:
    from ..models.registry import SHORT_NAMES, ModelNotFound
    out = {}
    for name, resolve in SHORT_NAMES.items():
        try:
            out[name] = resolve()
        except ModelNotFound as exc:
            out[name] = f"missing: {exc}"
    return out
