"""llama.cpp backend (llama-cpp-python): a GGUF model, optionally with a LoRA adapter.

    backend = LlamaCppBackend.shared("model.gguf", lora_path="adapter.gguf")
    backend.p_yes(prompt); backend.p_yes_many(prompts_sharing_a_prefix)

One `Llama` per (model, adapter, context) per process (`shared`), every use under its lock:
a llama.cpp context is not thread-safe. Threads: reasoningrec.config.cpu_threads() for prompt
batches, config.decode_threads() (default 1) for one-token generation steps.

P(Yes) reads the last row of logits straight from the context (`llama_get_logits_ith`), so the
model is built with logits_all=False (`Llama.scores` then stays zero). The KV cache keeps the
last scored prompt's tokens: a prompt sharing a token prefix with it evaluates only the rest
(set `n_tokens` back, eval the suffix), and p_yes_many evaluates the longest common token
prefix of its prompts once. The split is on tokens of the full prompts, never on text, and
never leaves a one-token batch, so the scores equal those of evaluating each prompt from
scratch (tested). Generation resets this: it evaluates token by token.

Threads on a shared CPU: llama.cpp's threads meet at an OpenMP barrier after every graph op.
GNU OpenMP's default spins there for ~3 ms before sleeping (OMP_WAIT_POLICY=ACTIVE: for ever);
on a busy machine the spinning thread holds the core its partner needs to reach the barrier:
on the shared 2-core dev machine (load 18-26, benchmarks/results/threads_under_load.md) two
spinning threads decoded 1.5-15 tokens/s. Never spinning (PASSIVE) is as bad the other way on an
idle machine: a thread wakes from sleep after every op, and a candidate's 30-token tail took
about twice as long as with spinning. So one-token steps run on config.decode_threads()
(default 1), and the barrier spins briefly: GOMP_SPINCOUNT=SPIN_COUNT (~0.1 ms) unless the
environment sets OMP_WAIT_POLICY or GOMP_SPINCOUNT itself (threads_under_load.md compares them
idle and with busy processes beside). libgomp reads these once, when llama.cpp loads it, so
they are set here, before any llama_cpp import.
"""
from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..cache import Cache
from ..config import cpu_threads, decode_threads
from .base import Backend, BackendError, Score, answer_token_ids, score_from_vector
from .decoding import call_penalties
from .llamacpp_session import LlamaSession, PromptStates
from .registry import ModelNotFound
from .session import common_prefix_length

SPIN_COUNT = "10000"  # GNU OpenMP barrier spins before a thread sleeps (see the module doc)
if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", SPIN_COUNT)

_SHARED = Cache("llamacpp: shared backend per model, adapter and options")


@atexit.register
def _close_shared() -> None:
    """Free shared models before interpreter teardown (Llama.__del__ fails late in it)."""
    for backend in _SHARED.values():
        backend.close()


def render_chat_template(template: str, messages: list[dict], add_generation_prompt: bool,
                         bos_token: str = "", eos_token: str = "") -> str:
    """Render a Hugging Face style Jinja chat template (as transformers does)."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message):
        raise BackendError(f"chat template: {message}")

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    return env.from_string(template).render(messages=messages, bos_token=bos_token,
                                            eos_token=eos_token,
                                            add_generation_prompt=add_generation_prompt)


class LlamaCppBackend(Backend):
    keeps_prompts = True  # session(prefix, keep=True) keeps KV states (llamacpp_session.py)

    def __init__(self, model_path: str | Path, lora_path: str | Path | None = None,
                 n_ctx: int = 4096, n_threads: int | None = None, n_batch: int = 512,
                 repeat_penalty: float = 1.0, frequency_penalty: float = 0.0,
                 presence_penalty: float = 0.0, n_decode_threads: int | None = None,
                 keep_states: int = 12):
        from llama_cpp import Llama

        model_path = Path(model_path).expanduser()
        for path, what in ((model_path, "GGUF model"), (lora_path, "LoRA adapter")):
            if path is not None and not Path(path).expanduser().is_file():
                raise ModelNotFound(f"{what} file not found: {path}")
        threads = n_threads or cpu_threads()
        try:
            self.llm = Llama(model_path=str(model_path), n_ctx=n_ctx, n_batch=n_batch,
                             n_threads=n_decode_threads or decode_threads(),
                             n_threads_batch=threads, logits_all=False,
                             lora_path=str(Path(lora_path).expanduser()) if lora_path else None,
                             verbose=False)
        except ValueError as exc:  # llama-cpp-python raises ValueError for unreadable files
            raise BackendError(f"llama.cpp could not load {model_path}"
                               f"{f' with {lora_path}' if lora_path else ''}: {exc}") from exc
        self.name = f"llamacpp:{model_path}" + (f"+{lora_path}" if lora_path else "")
        self.lock = threading.RLock()
        # its own penalties (models/decoding.py), for calls that name none: all at their
        # default = plain greedy at temperature 0
        self.penalties = {"repeat_penalty": repeat_penalty,
                          "frequency_penalty": frequency_penalty,
                          "presence_penalty": presence_penalty}
        self.n_vocab = self.llm.n_vocab()
        self.answer_ids = answer_token_ids(self.tokenize)
        self._scored: list[int] = []  # the cache's tokens, when scoring evaluated them
        self.states = PromptStates(self, keep_states)  # prompts sessions kept (keep=True)

    @classmethod
    def shared(cls, model_path, lora_path=None, **options) -> "LlamaCppBackend":
        """The process-wide instance for this model, adapter and options."""
        key = (str(Path(model_path).expanduser().resolve()),
               str(Path(lora_path).expanduser().resolve()) if lora_path else None,
               tuple(sorted(options.items())))
        return _SHARED.get(None, lambda: cls(model_path, lora_path, **options), key=key)

    # -- text -------------------------------------------------------------------------------
    def token_text(self, token_id: int, special: bool = True) -> str:
        return self.llm.detokenize([token_id], special=special).decode("utf-8", errors="replace")

    def tokenize(self, text: str) -> list[int]:
        """Special tokens in the text (<|im_start|>) are parsed; BOS is added when the model
        asks for it (add_bos_token) and the text does not already start with it."""
        bos = self.llm.token_bos()
        starts_with_bos = bos >= 0 and text.startswith(self.token_text(bos))
        return self.llm.tokenize(text.encode("utf-8"), add_bos=not starts_with_bos, special=True)

    def apply_chat(self, messages: list[dict], add_generation_prompt: bool = True) -> str:
        template = self.llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise BackendError(f"{self.name} has no chat template in its GGUF metadata")
        bos, eos = self.llm.token_bos(), self.llm.token_eos()
        return render_chat_template(template, messages, add_generation_prompt,
                                    self.token_text(bos) if bos >= 0 else "",
                                    self.token_text(eos) if eos >= 0 else "")

    # -- generation -------------------------------------------------------------------------
    def _completion(self, prompt: str, max_tokens, temperature, stop, seed, stream: bool,
                    penalties: dict | None):
        tokens = self.tokenize(prompt)
        self._check_length(len(tokens) + 1)
        return self.llm.create_completion(tokens, max_tokens=max_tokens, temperature=temperature,
                                          stop=stop or [], seed=seed, stream=stream,
                                          **call_penalties(self.penalties, penalties))

    def stream(self, prompt: str, max_tokens: int = 256, temperature: float = 0.0,
               stop: list[str] | None = None, seed: int | None = None,
               penalties: dict | None = None) -> Iterator[str]:
        with self.lock:
            self._scored = []  # generation rewrites the cache one token at a time
            for chunk in self._completion(prompt, max_tokens, temperature, stop, seed, True,
                                          penalties):
                text = chunk["choices"][0]["text"]
                if text:
                    yield text

    def generate(self, prompt: str, max_tokens: int = 256, temperature: float = 0.0,
                 stop: list[str] | None = None, seed: int | None = None,
                 penalties: dict | None = None) -> str:
        with self.lock:
            self._scored = []
            out = self._completion(prompt, max_tokens, temperature, stop, seed, False, penalties)
        return out["choices"][0]["text"]

    # -- scoring ----------------------------------------------------------------------------
    def _check_length(self, n_tokens: int) -> None:
        if n_tokens > self.llm.n_ctx():
            raise BackendError(f"prompt needs {n_tokens} tokens, more than the context "
                               f"({self.llm.n_ctx()}) of {self.name}")

    def _eval_last_logprobs(self, tokens: list[int], keep: int) -> np.ndarray:
        """Keep the first `keep` cached tokens, evaluate the rest, return log-softmax of the
        last position. Caller holds the lock."""
        import llama_cpp

        if not tokens:
            raise BackendError("cannot score an empty prompt")
        self._check_length(len(tokens))
        # Evaluate at least two tokens: llama.cpp computes a one-token batch through other
        # kernels, whose rounding shifts P(Yes) by up to ~0.01 on a Q4 model; batches of two
        # or more give the same numbers wherever the prompt is split.
        keep = max(0, min(keep, len(tokens) - 2))
        self._scored = []
        self.llm.n_tokens = keep           # eval() drops the KV cache past n_tokens
        self.llm.eval(tokens[keep:])
        self._scored = list(tokens)
        row = llama_cpp.llama_get_logits_ith(self.llm.ctx, -1)
        logits = np.ctypeslib.as_array(row, shape=(self.n_vocab,)).astype(np.float64)
        shifted = logits - logits.max()
        return shifted - np.log(np.exp(shifted).sum())

    def _cached_prefix(self, tokens: list[int]) -> int:
        """Tokens at the start of `tokens` whose KV entries a scoring call left in the cache
        (generation evaluates one token at a time and resets this, see above)."""
        return common_prefix_length(self._scored, tokens)

    def next_token_logprobs(self, prompt: str, reuse_cache: bool = True) -> np.ndarray:
        """Log-probabilities of every vocabulary token right after prompt."""
        tokens = self.tokenize(prompt)
        with self.lock:
            return self._eval_last_logprobs(tokens, self._cached_prefix(tokens) if reuse_cache else 0)

    def p_yes(self, prompt: str, reuse_cache: bool = True) -> Score:
        """reuse_cache=False evaluates the whole prompt from scratch (the reference path)."""
        return score_from_vector(self.next_token_logprobs(prompt, reuse_cache), self.answer_ids)

    def p_yes_many(self, prompts: list[str]) -> list[Score]:
        """Evaluate the longest common token prefix of all prompts once, then each suffix."""
        if not prompts:
            return []
        all_tokens = [self.tokenize(p) for p in prompts]
        prefix = min(common_prefix_length(all_tokens[0], t) for t in all_tokens)
        scores = []
        with self.lock:
            # Only a prefix that several prompts share is worth evaluating on its own (for a
            # single prompt it is the prompt: evaluated below, reusing the cache as p_yes does).
            shared = len(all_tokens) > 1 and prefix >= 2
            if shared and self._cached_prefix(all_tokens[0]) < prefix:
                self._eval_last_logprobs(all_tokens[0][:prefix],
                                         self._cached_prefix(all_tokens[0]))
            for tokens in all_tokens:
                keep = min(prefix, self._cached_prefix(tokens))
                scores.append(score_from_vector(self._eval_last_logprobs(tokens, keep),
                                                self.answer_ids))
        return scores

    # -- sessions and saved prompt states (llamacpp_session.py) ---------------------------------
    def session(self, prefix: str, keep: bool = False) -> LlamaSession:
        return LlamaSession(self, prefix, keep)

    def forget_prompts(self) -> None:
        self.states.clear()

    def save_prompt_state(self) -> tuple:
        """The KV cache of the last scored prompt and its tokens (llama.cpp's own context
        state, ~23 KB a token for SmolLM2; Llama.save_state would also copy 512 logit rows).
        Call right after p_yes; restore with load_prompt_state."""
        import ctypes
        import llama_cpp

        with self.lock:
            size = llama_cpp.llama_state_get_size(self.llm.ctx)
            data = (ctypes.c_uint8 * size)()
            used = llama_cpp.llama_state_get_data(self.llm.ctx, data, size)
            n = self.llm.n_tokens
            return data, int(used), self.llm.input_ids[:n].copy(), tuple(self._scored)

    def load_prompt_state(self, saved: tuple) -> None:
        """Put a save_prompt_state result back: the next p_yes/stream of a prompt sharing its
        tokens evaluates only the rest."""
        import llama_cpp

        data, used, input_ids, scored = saved
        with self.lock:
            if llama_cpp.llama_state_set_data(self.llm.ctx, data, used) != used:
                raise BackendError("llama.cpp could not restore a saved prompt state")
            self.llm.input_ids[:len(input_ids)] = input_ids
            self.llm.n_tokens = len(input_ids)
            self.llm._requires_eval = True  # logits are not restored: generate re-evaluates
            self._scored = list(scored)

    def cached_prefix(self, prompt_tokens: list[int]) -> int:
        """How many leading tokens of a prompt the current cache already holds."""
        with self.lock:
            return self._cached_prefix(prompt_tokens)

    def close(self) -> None:
        _SHARED.discard(self)
        self.llm.close()
