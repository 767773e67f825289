"""`reasoningrec models`: where the offline default models resolve on this machine, and
`reasoningrec models export-gguf`: a Hugging Face folder or PEFT adapter to GGUF.

    reasoningrec models --json
    reasoningrec models export-gguf path/to/hf_folder out.gguf --dtype f16
    reasoningrec models export-gguf path/to/adapter lora.gguf --lora-base path/to/hf_folder
"""
from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("models", help="show the offline default models and their files; "
                                      "export-gguf: convert a model to GGUF")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)
    verbs = p.add_subparsers(dest="verb", metavar="VERB")

    export = verbs.add_parser("export-gguf", help="a Hugging Face model folder (or a PEFT "
                              "adapter with --lora-base) to GGUF through llama.cpp's converters")
    export.add_argument("folder", help="Hugging Face model folder (config.json, safetensors, "
                                       "tokenizer files), or a PEFT adapter with --lora-base")
    export.add_argument("out", help="GGUF file to write")
    export.add_argument("--dtype", default="f16", choices=["f16", "f32"],
                        help="type of the weight matrices (norms stay f32)")
    export.add_argument("--lora-base", default=None,
                        help="the adapter's base model folder: write a LoRA GGUF instead")
    export.add_argument("--json", action="store_true", help="print one JSON object")
    export.set_defaults(func=run_export)


def run(args) -> dict:
    from ..models.registry import SHORT_NAMES, ModelNotFound
    out = {}
    for name, resolve in SHORT_NAMES.items():
        try:
            out[name] = resolve()
        except ModelNotFound as exc:
            out[name] = f"missing: {exc}"
    return out


def run_export(args) -> dict:
    """GGUFExportError is a RuntimeError: the CLI prints it as one line, exit status 2."""
    from ..models.gguf_export import export_gguf, export_lora_gguf
    if args.lora_base:
        return {"lora_gguf": str(export_lora_gguf(args.folder, args.lora_base, args.out))}
    return {"gguf": str(export_gguf(args.folder, args.out, args.dtype))}
