"""Interactive prediction + explanation for the app: a thread and a queue around the scorer.

    from reasoningrec.scoring.live import LiveExplainer
    explainer = LiveExplainer(load_backend("smollm2"))
    explainer.warm(ds, sample)                       # when a user is picked: evaluates the prompt
    explainer.rank(ds, sample, ["1", "48"])          # [(item_id, p_yes), ...] best first, stats
    for kind, value in explainer.stream(ds, sample):  # ("prediction", Prediction), ("token", str),
        ...                                          # then ("done", {"ttft_s", "tokens", ...})

Each call renders the sample's prompt once (LLMScorer.render) and runs it in one backend
session opened with keep=True (models/session.py): a backend that keeps prompt states
(llama.cpp: a Run after `warm`, or a new candidate sharing the user's prefix, evaluates only
what no kept state holds; models/llamacpp_session.py) does so behind that interface, the others
just score and stream. `evidence=`: the sample's evidence figures when the caller holds them
(the app's request), so the scorer does not fetch them again.

Threads: a session may hold the backend's lock while a stream is consumed, and Gradio advances
a generator on whichever worker thread is free; so the whole run happens on one thread of its
own and hands events over through a queue. Closing the generator stops the run.
"""
from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator

from ..data.schema import Dataset, Sample
from ..models.base import Backend
from ..models.decoding import MAX_TOKENS
from .llm import LLMScorer
from .options import PromptOptions
from .rendered import FETCH

_END = object()


class LiveExplainer:
    def __init__(self, backend: Backend, template: str = "student",
                 options: PromptOptions | None = None, max_new_tokens: int = MAX_TOKENS,
                 evidence_source=None, decode: dict | None = None):
        self.backend, self.template = backend, template
        self.decode = decode  # models/decoding.py: LLMScorer's penalties and loop stop
        self.evidence_source = evidence_source  # LLMScorer's, for students that read evidence
        self.options = options or PromptOptions()
        self.max_new_tokens = max_new_tokens
        self._scorers: dict[int, LLMScorer] = {}

    def scorer(self, max_tokens: int | None = None) -> LLMScorer:
        n = max_tokens or self.max_new_tokens
        if n not in self._scorers:
            self._scorers[n] = LLMScorer(self.backend, self.template, self.options, n,
                                         evidence_source=self.evidence_source,
                                         decode=self.decode)
        return self._scorers[n]

    def forget(self) -> None:
        """Drop every kept prompt state (benchmarks: a cold start)."""
        self.backend.forget_prompts()

    def warm(self, ds: Dataset, sample: Sample, profile: str | None = None, *,
             evidence=FETCH) -> dict:
        """Evaluate a prompt and keep its state; {"seconds", "prompt_tokens", "reused"}
        (prompt_tokens None: the backend keeps no states, nothing was done)."""
        start = time.perf_counter()
        if not self.backend.keeps_prompts:
            return {"seconds": 0.0, "prompt_tokens": None, "reused": 0}
        r = self.scorer().render(ds, sample, profile, evidence=evidence)
        with self.backend.session(r.text, keep=True) as session:
            session.p_yes()
        return {"seconds": time.perf_counter() - start, "prompt_tokens": r.n_tokens,
                "reused": session.reused}

    def predict(self, ds: Dataset, sample: Sample, profile: str | None = None, *,
                evidence=FETCH):
        """P(Yes) only (a Prediction without rationale), reusing and keeping prompt states."""
        scorer = self.scorer()
        r = scorer.render(ds, sample, profile, evidence=evidence)
        with self.backend.session(r.text, keep=True) as session:
            return scorer.predict(ds, sample, rendered=r, session=session)

    def rank(self, ds: Dataset, sample: Sample, candidates: list[str], progress=None):
        """((item_id, p_yes) best first, stats) for the sample's user (scoring/rank.py): the
        shared prompt prefix is read once, whatever state was kept; progress(done, total)."""
        from .rank import rank_candidates
        return rank_candidates(self.scorer(), ds, sample, candidates, progress=progress)

    def _run(self, ds, sample, profile, max_tokens, evidence, out: queue.Queue,
             stop: threading.Event):
        start = time.perf_counter()
        scorer = self.scorer(max_tokens)
        stats = {"reused": 0, "tokens": 0}
        try:
            r = scorer.render(ds, sample, profile, evidence=evidence)
            with self.backend.session(r.text, keep=True) as session:
                if self.backend.keeps_prompts:
                    stats["reused"], stats["prompt_tokens"] = session.reused, r.n_tokens
                for kind, value in scorer.stream_explanation(ds, sample, rendered=r,
                                                             session=session):
                    if stop.is_set():
                        break
                    if kind == "stopped":   # the loop stop ended the text: the stats say so
                        stats["stopped"] = value
                        continue
                    if kind == "prediction":
                        stats["prediction_s"] = time.perf_counter() - start
                    elif "ttft_s" not in stats:
                        stats["ttft_s"] = time.perf_counter() - start
                    if kind == "token":
                        stats["tokens"] += 1
                    out.put((kind, value))
            stats["seconds"] = time.perf_counter() - start
            gen = stats["seconds"] - stats.get("ttft_s", stats["seconds"])
            stats["tokens_per_s"] = (stats["tokens"] - 1) / gen if stats["tokens"] > 1 and gen > 0 else None
            out.put(("done", stats))
        except Exception as exc:  # handed to the consumer, which re-raises it
            out.put(("error", exc))
        finally:
            out.put(_END)

    def stream(self, ds: Dataset, sample: Sample, profile: str | None = None,
               max_tokens: int | None = None, *, evidence=FETCH) -> Iterator[tuple[str, object]]:
        """("prediction", Prediction), ("token", piece)..., ("done", stats); errors re-raised.
        stats["stopped"] == "repeating" (scoring.llm.STOPPED_LOOPING) when the loop stop ended
        the explanation."""
        out: queue.Queue = queue.Queue()
        stop = threading.Event()
        worker = threading.Thread(target=self._run, name="live-explain", daemon=True,
                                  args=(ds, sample, profile, max_tokens, evidence, out, stop))
        worker.start()
        try:
            while (event := out.get()) is not _END:
                if event[0] == "error":
                    raise event[1]
                yield event
        finally:
            stop.set()  # the consumer went away (closed tab, cancelled event): end the run
