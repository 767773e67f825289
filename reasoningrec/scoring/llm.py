"""LLM prediction and explanation: a prompt template + a backend → P(Yes) and a rationale.

    from reasoningrec.scoring.llm import LLMScorer
    scorer = LLMScorer(load_backend("smollm2"), template="student")
    pred = scorer.predict(ds, ds.sample("test", "1"), explain=True)
    pred.p_yes, pred.rationale
    for piece in scorer.stream_explanation(ds, sample): ...   # the app streams this
    r = scorer.render(ds, sample)          # RenderedPrompt (rendered.py): render once, then
    scorer.predict(ds, sample, rendered=r) # hand it on (live, rank and training do)

The student's rationale is generated *after* the prediction is fixed: the prompt continues
with "Prediction: Yes" (or No, whichever P(Yes) says) and "Reasoning:", so the explanation
can never contradict the score it explains. The history is fitted to the model's context
(oldest items dropped first) and can be chosen as the k most recent or the k most relevant.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

from ..cache import Cache
from ..data.schema import Dataset, HistoryEntry, Sample
from ..models.base import Backend
from ..models.decoding import MAX_TOKENS, penalties, stop_loop_ngram
from ..models.session import PromptSession
from ..prompts import fit_history, get_template, parse_student_output
from ..repeats import stop_when_looping
from .options import PromptOptions
from .protocol import Prediction, Scorer
from .rendered import FETCH, RenderedPrompt

REASONING_CUE = "\nReasoning:"
STOPPED_LOOPING = "repeating"  # Prediction.extra["stopped"]: the loop stop ended the rationale
EVIDENCE_TEMPLATES = ("student", "student_direct", "zero_shot",  # accept `evidence=`
                      "teacher_cot", "teacher_brief")
CANDIDATE_LAST_TEMPLATES = ("student", "student_direct", "zero_shot")  # candidate_last=
_INDEXES = Cache("scoring.llm: retrieval.ItemIndex per dataset")  # of the whole catalogue


class BackendChat:
    """Lets the budget fitter render prompts through a backend's own chat template."""

    chat_template = True

    def __init__(self, backend: Backend):
        self.backend = backend

    def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=True):
        return self.backend.apply_chat(messages, add_generation_prompt=add_generation_prompt)


def prompt_history(ds: Dataset, sample: Sample, opts: PromptOptions) -> tuple[HistoryEntry, ...]:
    """The history entries a prompt under `opts` shows, oldest first: all of them, or the
    history_k that retrieval.select_history picks (the catalogue embedded once per dataset)."""
    if opts.history_k is None:
        return tuple(sample.history)
    from ..retrieval import select_history
    index = catalogue_index(ds) if opts.history_mode == "relevant" else None
    return tuple(select_history(sample, opts.history_k, mode=opts.history_mode, index=index))


def catalogue_index(ds: Dataset):
    """The retrieval.ItemIndex of `ds`'s whole catalogue, built once per dataset object."""
    from ..retrieval import ItemIndex
    return _INDEXES.get(ds, lambda: ItemIndex.build(ds.items))


class LLMScorer(Scorer):
    """P(Yes) from a backend for prompts of one template (student, zero_shot, tallrec)."""

    writes_rationale = True

    def __init__(self, backend: Backend, template: str = "student",
                 options: PromptOptions | None = None, max_new_tokens: int = MAX_TOKENS,
                 context: int | None = None, evidence_source=None, decode: dict | None = None):
        self.backend = backend
        # models/decoding.py: the penalties and loop stop its rationales are generated with
        # (max_tokens is max_new_tokens'); None: the backend's own penalties, no loop stop
        self.decode = decode
        self.penalties = None if decode is None else penalties(decode)
        self.stop_loop_ngram = stop_loop_ngram(decode)  # 0 = let rationales loop
        # (ds, sample) -> evidence fields or None, for datasets without their training ratings
        # (the app's demo pool); default: EvidenceIndex.fit(ds)
        self.evidence_source = evidence_source
        self.options = options or PromptOptions()
        if not self.options.reasoning and template.split("/")[0] == "student":
            template = "student_direct"   # the same prompt without the reasoning request
        self.template, self.builder = get_template(template)
        self.max_new_tokens = max_new_tokens
        self.context = context or getattr(backend, "n_ctx", None) or 4096
        self.name = f"{self.template.split('/')[0]}:{backend.name}"
        self.writes_rationale = self.template.split("/")[0] == "student"
        if self.options.evidence and self.template.split("/")[0] not in EVIDENCE_TEMPLATES:
            raise ValueError(f"template {self.template} cannot show collaborative evidence; "
                             f"those that can: {', '.join(EVIDENCE_TEMPLATES)}")
        if self.options.candidate_last and \
                self.template.split("/")[0] not in CANDIDATE_LAST_TEMPLATES:
            raise ValueError(f"template {self.template} has no candidate-last layout; those "
                             f"that have: {', '.join(CANDIDATE_LAST_TEMPLATES)}")
        if self.options.candidate_last and not backend.local_template:
            raise ValueError(f"{backend.name} templates chats itself, so it cannot continue an "
                             f"assistant turn that names the candidate (candidate_last); serve "
                             f"this student through llama.cpp or transformers")
        self._chat = BackendChat(backend)

    def render(self, ds: Dataset, sample: Sample, profile: str | None = None, *,
               history: tuple[HistoryEntry, ...] | None = None, reserve: int = 0,
               evidence=FETCH) -> RenderedPrompt:
        """The fitted prompt, ending at the answer position (rendered.py). `history`: the
        entries to fit instead of the options' choice (rank shows every candidate the same
        ones); `reserve`: tokens kept free beyond the generation budget; `evidence`: the
        sample's evidence figures when the caller holds them (the app's request), else they
        are fetched (evidence_source, or the dataset's ratings) when the options show them."""
        if history is None:
            history = prompt_history(ds, sample, self.options)
        if not self.options.evidence:
            evidence = None
        elif evidence is FETCH:
            evidence = self._evidence(ds, sample)
        shown = {"candidate_last": True} if self.options.candidate_last else {}
        if evidence:
            from .evidence import evidence_text
            from ..prompts.text import wording
            shown["evidence"] = evidence_text(evidence, wording(ds))
        fitted = fit_history(self.builder, ds, sample, self.backend.count_tokens, self.context,
                             history=history,
                             tokenizer=self._chat if self.backend.local_template else None,
                             reserve=self.max_new_tokens + reserve,
                             with_profile=self.options.with_profile,
                             with_description=self.options.with_description, profile=profile,
                             **shown)
        text = fitted.text
        if fitted.prompt.response_cue and not text.endswith(fitted.prompt.response_cue):
            text += fitted.prompt.response_cue  # TALLRec's Alpaca cue inside the chat turn
        return RenderedPrompt(fitted.prompt, text, fitted.tokens, fitted.kept, fitted.dropped,
                              evidence or None,
                              self.backend.tokenize if self.backend.local_template else None)

    def _evidence(self, ds: Dataset, sample: Sample) -> dict | None:
        """The sample's evidence figures: evidence_source's, else EvidenceIndex.fit(ds)'s."""
        if self.evidence_source:
            return self.evidence_source(ds, sample)
        from .evidence import EvidenceIndex
        return EvidenceIndex.fit(ds).evidence(sample)

    @property
    def eval_batch(self) -> int:
        """Samples the evaluation harness hands predict_many at once (the backend's batch)."""
        return getattr(self.backend, "batch_size", 1)

    @staticmethod
    def _extra(r: RenderedPrompt) -> dict:
        return {"template": r.template, "history_kept": len(r.kept), "history_dropped": r.dropped,
                "history_shown": [e.item_id for e in r.kept]}

    def predict_many(self, ds: Dataset, samples: list[Sample]) -> list[Prediction]:
        """Scores only, the prompts scored together by backend.p_yes_many (batched on a GPU);
        through a server's own chat template, up to backend.max_concurrency chats at once."""
        if not self.backend.local_template:
            with ThreadPoolExecutor(max(1, min(self.backend.max_concurrency, len(samples)))) as pool:
                return list(pool.map(lambda s: self.predict(ds, s), samples))
        start = time.perf_counter()
        rendered = [self.render(ds, s) for s in samples]
        scores = self.backend.p_yes_many([r.text for r in rendered])
        seconds = (time.perf_counter() - start) / max(1, len(samples))
        return [Prediction(score.p_yes, hard_label=score.hard_label, prompt_tokens=r.n_tokens,
                           seconds=seconds, extra=self._extra(r))
                for score, r in zip(scores, rendered)]

    def _session(self, r: RenderedPrompt, session: PromptSession | None):
        """The caller's open session on r.text (the live explainer's), else a fresh one."""
        return nullcontext(session) if session is not None else self.backend.session(r.text)

    def predict(self, ds: Dataset, sample: Sample, *, explain: bool = False,
                profile: str | None = None, rendered: RenderedPrompt | None = None,
                session: PromptSession | None = None) -> Prediction:
        """`rendered`: the sample's prompt when the caller has rendered it; `session`: an
        open backend session on its text."""
        start = time.perf_counter()
        r = rendered or self.render(ds, sample, profile)
        ended: dict = {}   # {"stopped": STOPPED_LOOPING} when the loop stop cut the rationale
        if not self.backend.local_template:
            pred = self._predict_by_chat(r.prompt, explain, ended)
        else:
            with self._session(r, session) as s:
                score = s.p_yes()
                pred = Prediction(score.p_yes, hard_label=score.hard_label)
                if explain and self.writes_rationale:
                    pred.rationale = "".join(self._reasoning(s, pred.label, ended)).strip()
        pred.prompt_tokens, pred.extra = r.n_tokens, {**self._extra(r), **ended}
        pred.seconds = time.perf_counter() - start
        return pred

    def _predict_by_chat(self, prompt, explain: bool, ended: dict) -> Prediction:
        """Servers that template chats themselves: a prompt answering at the start of the
        turn is scored from the first token's logprobs; the student's "Prediction: ..."
        answer is generated and parsed, so its score is a hard label."""
        if not prompt.assistant_prefix:
            score = self.backend.p_yes_chat(prompt.chat())
            return Prediction(score.p_yes, hard_label=score.hard_label)
        reply = self.backend.chat(prompt.chat(), max_tokens=self.max_new_tokens)
        label, reasoning = parse_student_output(reply.strip())
        if reasoning and self.stop_loop_ngram:
            reasoning = "".join(self._loop_stop([reasoning], ended))
        p_yes = 0.5 if label is None else float(label)
        return Prediction(p_yes, hard_label=True, rationale=reasoning if explain else None)

    def _reasoning(self, session: PromptSession, label: int, ended: dict) -> Iterator[str]:
        answer = " Yes" if label else " No"
        pieces = session.stream(answer + REASONING_CUE, max_tokens=self.max_new_tokens,
                                stop=["<|im_end|>", "\nPrediction:"], penalties=self.penalties)
        return self._loop_stop(pieces, ended) if self.stop_loop_ngram else pieces

    def _loop_stop(self, pieces, ended: dict) -> Iterator[str]:
        """The rationale ended before a loop (repeats.stop_when_looping); `ended` says so."""
        return stop_when_looping(pieces, self.stop_loop_ngram,
                                 on_stop=lambda: ended.update(stopped=STOPPED_LOOPING))

    def stream_explanation(self, ds: Dataset, sample: Sample, profile: str | None = None, *,
                           rendered: RenderedPrompt | None = None,
                           session: PromptSession | None = None):
        """Yields ("prediction", Prediction) first, then ("token", text) pieces of the reasoning,
        and last ("stopped", STOPPED_LOOPING) when the loop stop ended it."""
        start = time.perf_counter()
        r = rendered or self.render(ds, sample, profile)
        extra = {"template": r.template, "history_kept": len(r.kept)}
        ended: dict = {}
        if not self.backend.local_template:  # the whole reply comes at once
            pred = self._predict_by_chat(r.prompt, True, ended)
            pred.prompt_tokens, pred.extra = r.n_tokens, extra
            pred.seconds = time.perf_counter() - start
            yield "prediction", pred
            yield "token", pred.rationale or ""
        else:
            with self._session(r, session) as s:
                score = s.p_yes()
                pred = Prediction(score.p_yes, hard_label=score.hard_label,
                                  prompt_tokens=r.n_tokens,
                                  seconds=time.perf_counter() - start, extra=extra)
                yield "prediction", pred
                if self.template.startswith("student_direct"):  # asked for no reasoning
                    return
                for piece in self._reasoning(s, pred.label, ended):
                    yield "token", piece
        if ended:
            yield "stopped", ended["stopped"]
