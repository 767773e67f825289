"""transformers backend: a local folder, a GGUF file or a Hub id, optionally with a PEFT adapter.

    backend = HFBackend("path/to/model", adapter="path/to/lora")   # CUDA when present
    backend.p_yes(prompt); "".join(backend.stream(prompt, max_tokens=64))
    backend.p_yes_many(prompts)     # left-padded batches (batch_size): the GPU evaluation path

Runs on CUDA when torch sees a GPU, else CPU (float32, CPU_CORES threads). On CUDA a model
under SMALL_MODEL parameters (the 135M students) stays float32: padded bf16 batches gave a
P(Yes) 4.7e-2 away from one-at-a-time on the same rows, fp32 3.3e-6 (benchmarks/results/
build_speed.md); bigger models (the paper's 7B) load in bfloat16.
A `.gguf` file is dequantised by transformers once and read from the cache folder after that
(gguf_folder.py); exact enough to compare with llama.cpp. Hub ids load only when the network
allows (registry.resolve_local).
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from ..cache import Cache
from ..config import cpu_threads
from .base import (Backend, BackendError, Score, answer_token_ids, cut_at_stop,
                   score_from_vector)
from .gguf_folder import transformers_source
from .registry import resolve_local


def last_token_logprobs(model, id_lists: list[list[int]], pad_id: int, batch_size: int):
    """Log-softmax (float32, CPU) at the last token of each id list, in order. Batches are
    left-padded with positions counted as if unpadded, so each row gets the numbers it would
    get alone; lists are batched by length to keep padding small."""
    import torch
    order = sorted(range(len(id_lists)), key=lambda i: len(id_lists[i]))
    out: list = [None] * len(id_lists)
    device = next(model.parameters()).device
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            picked = order[start:start + batch_size]
            chunk = [id_lists[i] for i in picked]
            width = max(map(len, chunk))
            ids = torch.tensor([[pad_id] * (width - len(c)) + c for c in chunk], device=device)
            mask = torch.tensor([[0] * (width - len(c)) + [1] * len(c) for c in chunk],
                                device=device)
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            logits = model(input_ids=ids, attention_mask=mask, position_ids=positions,
                           logits_to_keep=1).logits[:, -1].float()
            for i, row in zip(picked, torch.log_softmax(logits, dim=-1).cpu()):
                out[i] = row
    return out


def load_tokenizer(source, **extra):
    """AutoTokenizer, with SentencePiece vocabularies marked `"legacy": false` (Llama-2's) read
    as their reference code encodes: a "▁" before the text after every special token
    ("<s>[INST]" -> "<s>▁[INST]"). transformers 5 reads the flag as "no ▁ after specials"
    (prepend_scheme first), a token the chat model never saw; llama.cpp's SPM tokenizer, the
    sentencepiece library and transformers 4's fast tokenizer all keep the ▁."""
    from transformers import AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(source, **extra)
    if getattr(tokenizer, "legacy", None) is False and \
            str(getattr(tokenizer, "vocab_file", "")).endswith(".model"):
        tokenizer = AutoTokenizer.from_pretrained(source, legacy=True, **extra)
    return tokenizer


def load_tokenizer_of(target: str):
    """load_tokenizer for a model folder, a .gguf file (its embedded tokenizer) or a Hub id."""
    source = transformers_source(resolve_local(target, "tokenizer"))
    try:
        return load_tokenizer(source)
    except (OSError, ValueError) as exc:
        raise BackendError(f"transformers could not load a tokenizer from {target}: {exc}") from exc


def tokenize_text(tokenizer, text: str) -> list[int]:
    """Special tokens written in the text are parsed; BOS is added only when the tokenizer
    adds one and the text does not already start with it."""
    bos = tokenizer.bos_token
    return tokenizer(text, add_special_tokens=not (bos and text.startswith(bos)))["input_ids"]


def render_chat(tokenizer, messages: list[dict], add_generation_prompt: bool, name: str) -> str:
    if not tokenizer.chat_template:
        raise BackendError(f"{name} has no chat template")
    return tokenizer.apply_chat_template(messages, tokenize=False,
                                         add_generation_prompt=add_generation_prompt)


_SHARED = Cache("hf: shared backend per model, adapter and options")


SMALL_MODEL = 1_000_000_000  # parameters


def default_dtype(config, device: str) -> str:
    """float32 on CPU and for models under SMALL_MODEL parameters; bfloat16 for bigger ones on
    CUDA. The size is counted exactly on an empty (meta-device) model built from `config`."""
    import torch
    from transformers import AutoModelForCausalLM
    if not device.startswith("cuda"):
        return "float32"
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    return "float32" if model.num_parameters() < SMALL_MODEL else "bfloat16"


class HFBackend(Backend):
    def __init__(self, target: str, adapter: str | None = None, device: str | None = None,
                 dtype: str | None = None, batch_size: int | None = None,
                 repeat_penalty: float = 1.0, frequency_penalty: float = 0.0,
                 presence_penalty: float = 0.0):
        import torch
        from transformers import AutoModelForCausalLM

        source = transformers_source(resolve_local(target, "model"))
        if isinstance(source, Path) and source.is_file():
            raise BackendError(f"hf: expects a model folder, a .gguf file or a Hub id, "
                               f"got the file {source}")
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if self.device == "cpu":
            torch.set_num_threads(cpu_threads())
        try:
            if dtype is None and self.device.startswith("cuda"):
                from transformers import AutoConfig
                dtype = default_dtype(AutoConfig.from_pretrained(source), self.device)
            self.dtype = dtype or "float32"
            tokenizer = load_tokenizer(source)
            model = AutoModelForCausalLM.from_pretrained(source, dtype=getattr(torch, self.dtype))
        except OSError as exc:
            raise BackendError(f"transformers could not load {target}: {exc}") from exc
        if adapter:
            from peft import PeftModel
            model = PeftModel.from_pretrained(model, resolve_local(adapter, "PEFT adapter"))
        self._adopt(model.to(self.device).eval(), tokenizer,
                    f"hf:{target}" + (f"+{adapter}" if adapter else ""), batch_size)
        # llama.cpp's penalties over the generated tokens (models/decoding.py)
        self.penalties = {"repeat_penalty": repeat_penalty,
                          "frequency_penalty": frequency_penalty,
                          "presence_penalty": presence_penalty}

    @classmethod
    def wrap(cls, tokenizer, model=None, name: str = "hf:in-memory",
             batch_size: int | None = None) -> "HFBackend":
        """An HFBackend around a tokenizer (and model) already in memory, left in its mode
        (training.sft renders its prompts through it exactly as evaluation does); without a
        model only the text methods work (tokenize, apply_chat, count_tokens)."""
        backend = cls.__new__(cls)
        backend.device = "cpu" if model is None else str(next(model.parameters()).device)
        backend._adopt(model, tokenizer, name, batch_size)
        return backend

    def _adopt(self, model, tokenizer, name: str, batch_size: int | None) -> None:
        self.model, self.tokenizer, self.name = model, tokenizer, name
        self.penalties = {}
        # Prompts scored together by p_yes_many (evaluation batches them on a GPU; on a CPU
        # one at a time keeps a resumed evaluation's unit small).
        self.batch_size = batch_size or (32 if self.device.startswith("cuda") else 1)
        self.lock = threading.Lock()  # one forward/generate at a time on a model
        self.answer_ids = answer_token_ids(self.tokenize)

    @classmethod
    def shared(cls, target: str, adapter: str | None = None, **options) -> "HFBackend":
        """The process-wide instance for this model, adapter and options."""
        key = (str(target), str(adapter), tuple(sorted(options.items())))
        return _SHARED.get(None, lambda: cls(target, adapter, **options), key=key)

    # -- text -------------------------------------------------------------------------------
    def tokenize(self, text: str) -> list[int]:
        return tokenize_text(self.tokenizer, text)

    def apply_chat(self, messages: list[dict], add_generation_prompt: bool = True) -> str:
        return render_chat(self.tokenizer, messages, add_generation_prompt, self.name)

    def _inputs(self, prompt: str):
        import torch
        ids = torch.tensor([self.tokenize(prompt)], device=self.device)
        return {"input_ids": ids, "attention_mask": torch.ones_like(ids)}

    # -- generation -------------------------------------------------------------------------
    def _generate_kwargs(self, max_tokens, temperature, seed, prompt_length: int,
                         penalties: dict | None) -> dict:
        import torch
        from .decoding import call_penalties, hf_logits_processor
        if seed is not None:
            torch.manual_seed(seed)
        sampling = {"do_sample": True, "temperature": temperature} if temperature > 0 else {
            "do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        pad = self.tokenizer.pad_token_id
        processor = hf_logits_processor(call_penalties(self.penalties, penalties), prompt_length)
        return {"max_new_tokens": max_tokens, "pad_token_id": pad if pad is not None
                else self.tokenizer.eos_token_id, **sampling,
                **({"logits_processor": processor} if processor else {})}

    def generate(self, prompt: str, max_tokens: int = 256, temperature: float = 0.0,
                 stop: list[str] | None = None, seed: int | None = None,
                 penalties: dict | None = None) -> str:
        import torch
        inputs = self._inputs(prompt)
        with self.lock, torch.inference_mode():
            out = self.model.generate(**inputs, **self._generate_kwargs(
                max_tokens, temperature, seed, inputs["input_ids"].shape[1], penalties))
        new = out[0, inputs["input_ids"].shape[1]:]
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        return "".join(cut_at_stop([text], stop))

    def stream(self, prompt: str, max_tokens: int = 256, temperature: float = 0.0,
               stop: list[str] | None = None, seed: int | None = None,
               penalties: dict | None = None) -> Iterator[str]:
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        cancelled = threading.Event()

        class Cancelled(StoppingCriteria):  # ends generate() when the reader stops early
            def __call__(self, input_ids, scores, **kwargs):
                return cancelled.is_set()

        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True,
                                        skip_special_tokens=True)
        inputs = self._inputs(prompt)
        kwargs = {**inputs, **self._generate_kwargs(max_tokens, temperature, seed,
                                                    inputs["input_ids"].shape[1], penalties),
                  "streamer": streamer, "stopping_criteria": StoppingCriteriaList([Cancelled()])}
        failure: list[BaseException] = []

        def run():
            import torch
            try:
                with self.lock, torch.inference_mode():
                    self.model.generate(**kwargs)
            except BaseException as exc:  # surfaced to the reader below
                failure.append(exc)
                streamer.end()

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        try:
            yield from cut_at_stop((piece for piece in streamer if piece), stop)
        finally:
            cancelled.set()
            worker.join()
        if failure:
            raise BackendError(f"{self.name}: generation failed: {failure[0]}") from failure[0]

    # -- scoring ----------------------------------------------------------------------------
    def next_token_logprobs(self, prompt: str):
        """Log-probabilities (float32 tensor on CPU) of every token right after prompt."""
        import torch
        with self.lock, torch.inference_mode():
            logits = self.model(**self._inputs(prompt), logits_to_keep=1).logits[0, -1]
        return torch.log_softmax(logits.float(), dim=-1).cpu()

    def p_yes(self, prompt: str, reuse_cache: bool = True) -> Score:
        """Every call evaluates the whole prompt (no cache between calls: `reuse_cache` is
        accepted so callers can ask any local backend for the from-scratch reference)."""
        return score_from_vector(self.next_token_logprobs(prompt), self.answer_ids)

    def p_yes_many(self, prompts: list[str]) -> list[Score]:
        pad = self.tokenizer.pad_token_id
        pad = self.tokenizer.eos_token_id if pad is None else pad
        with self.lock:
            rows = last_token_logprobs(self.model, [self.tokenize(p) for p in prompts], pad,
                                       self.batch_size)
        return [score_from_vector(row, self.answer_ids) for row in rows]
