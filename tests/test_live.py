"""One render a sample, sessions behind the backend (issue #16): the live explainer, ranking
and the app's Run render each prompt once and fetch its evidence once; a backend session
scores exactly as plain p_yes does (real GGUF through llama.cpp, the same model through
transformers). Real demo pool, tiny model for the fast tests, the shipped student in the slow one.

    nice -n 19 .venv/bin/python -m pytest tests/test_live.py -q
"""
from __future__ import annotations

import time

import pytest
from tiny_model import tiny_model  # noqa: F401  (session fixture)

from reasoningrec.demo_pool import DemoPool
from reasoningrec.models.loader import load_backend
from reasoningrec.models.session import PromptSession, common_prefix_length
from reasoningrec.scoring.live import LiveExplainer
from reasoningrec.scoring.llm import LLMScorer
from reasoningrec.scoring.options import PromptOptions
from reasoningrec.scoring.rank import candidate_items, candidate_prompts

CUE = " Yes\nReasoning:"


@pytest.fixture(scope="module")
def pool() -> DemoPool:
    return DemoPool.load()


@pytest.fixture(scope="module")
def llama(tiny_model):  # noqa: F811
    return load_backend(f"llamacpp:{tiny_model.gguf}")


def counting(monkeypatch, owner, name: str) -> list:
    """Record every call of owner.name (the real method still runs)."""
    calls, real = [], getattr(owner, name)

    def wrapped(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)
    monkeypatch.setattr(owner, name, wrapped)
    return calls


def test_the_live_explainer_renders_each_prompt_once(pool, llama, monkeypatch):
    """warm, stream, predict: one render each; with the request's evidence handed over, the
    evidence source is never asked; rank renders each candidate once (the target's is its own
    prompt). The streamed P(Yes) is the from-scratch one, read from the kept state."""
    ds, user = pool.datasets["ml1m"], pool.users["ml1m"][0]
    explainer = LiveExplainer(llama, options=PromptOptions(evidence=True), max_new_tokens=4,
                              evidence_source=pool.evidence_for)
    renders = counting(monkeypatch, LLMScorer, "render")
    fetched = counting(monkeypatch, pool, "evidence")
    evidence = pool.evidence_for(ds, user.sample)
    assert evidence and len(fetched) == 1
    llama.forget_prompts()
    warm = explainer.warm(ds, user.sample, evidence=evidence)
    assert len(renders) == 1 and warm["prompt_tokens"] > 0
    events = list(explainer.stream(ds, user.sample, evidence=evidence))
    assert len(renders) == 2 and len(fetched) == 1
    stats = events[-1][1]
    assert stats["reused"] == stats["prompt_tokens"] == warm["prompt_tokens"]
    text = explainer.scorer().render(ds, user.sample).text   # fetches: the scorer's own way
    assert len(fetched) == 2 and "Community evidence" in text
    assert events[0][1].p_yes == pytest.approx(llama.p_yes(text, reuse_cache=False).p_yes, abs=1e-6)
    renders.clear()
    assert explainer.predict(ds, user.sample).p_yes == pytest.approx(events[0][1].p_yes, abs=1e-6)
    assert len(renders) == 1
    renders.clear()
    ids = [c.item_id for c in user.candidates]
    ranked, _ = explainer.rank(ds, user.sample, ids)
    assert len(renders) == len(ids) and sorted(i for i, _ in ranked) == sorted(ids)
    assert dict(ranked)[user.sample.target] == pytest.approx(events[0][1].p_yes, abs=1e-6)


def test_rendered_prompt_marks_the_prefix_candidates_share(ml1m, llama):
    """shared_prefix ends where the candidate begins; in tokens it is the prefix the
    candidates' prompts share (a token merging across the cut aside)."""
    scorer = LLMScorer(llama, "student", max_new_tokens=8)
    sample = ml1m.sample("test", "1")
    ids = candidate_items(ml1m, sample, 3)
    own, a, b = candidate_prompts(scorer, ml1m, sample, ids)
    assert own.shared_prefix and own.shared_prefix == a.shared_prefix == b.shared_prefix
    for item_id, r in zip(ids, (own, a, b)):
        assert r.text.startswith(r.shared_prefix) and r.kept == own.kept
        assert r.text[len(r.shared_prefix):].startswith(ml1m.item(item_id).title)
    shared = common_prefix_length(a.token_ids, b.token_ids)
    assert 0 < shared - 2 <= own.prefix_length <= shared
    assert own.token_ids == llama.tokenize(own.text) and own.n_tokens == len(own.token_ids)
    assert LLMScorer(llama, "teacher_cot").render(ml1m, sample).shared_prefix == ""


def test_sessions_score_as_plain_p_yes(ml1m, llama, tiny_model):  # noqa: F811
    """llama.cpp's session (KV state) and the plain one give the from-scratch P(Yes): the
    prefix's own score, candidates' tails after it, a kept state restored after the cache
    moved on, and the stream continuing it; transformers' plain session matches too."""
    scorer = LLMScorer(llama, "student", max_new_tokens=8)
    sample = ml1m.sample("test", "1")
    rendered = candidate_prompts(scorer, ml1m, sample, candidate_items(ml1m, sample, 6))
    own, prefix = rendered[0], rendered[0].shared_prefix
    tails = [r.text[len(prefix):] for r in rendered]
    scratch = [llama.p_yes(r.text, reuse_cache=False).p_yes for r in rendered]
    llama.forget_prompts()
    with llama.session(prefix) as s:
        assert [x.p_yes for x in s.score_continuations(tails)] == pytest.approx(scratch, abs=1e-6)
    with llama.session(own.text, keep=True) as s:
        assert s.p_yes().p_yes == pytest.approx(scratch[0], abs=1e-6)
    llama.p_yes(rendered[1].text)                        # the cache moves on to another prompt
    with llama.session(own.text, keep=True) as s:
        assert s.reused == own.n_tokens                  # the kept state is back
        assert s.p_yes().p_yes == pytest.approx(scratch[0], abs=1e-6)
        streamed = "".join(s.stream(CUE, max_tokens=6))
    assert streamed == llama.generate(own.text + CUE, max_tokens=6)
    with PromptSession(llama, prefix) as plain:          # what hf: and openai: get
        assert plain.reused == 0
        assert [x.p_yes for x in plain.score_continuations(tails)] == pytest.approx(scratch, abs=1e-6)
    from reasoningrec.models.hf import HFBackend
    hf = HFBackend(str(tiny_model.hf_dir), batch_size=6)
    assert not hf.keeps_prompts
    with hf.session(prefix, keep=True) as s:
        batched = [x.p_yes for x in s.score_continuations(tails)]
        assert s.p_yes(tails[0]).p_yes == pytest.approx(hf.p_yes(own.text).p_yes, abs=1e-6)
    assert batched == pytest.approx([hf.p_yes(r.text).p_yes for r in rendered], abs=1e-3)


@pytest.mark.slow
def test_a_run_renders_its_sample_once_and_builds_its_request_once(pool, monkeypatch):
    """The Explain tab's events for one page state (panels, evidence, warm, then Run) share one
    Request: one build_request, the evidence fetched once, and Run renders the prompt once
    (the shipped hybrid student, which reads the evidence)."""
    from reasoningrec.ui import views as views_module
    from reasoningrec.ui.run import RunEvents
    from reasoningrec.ui.service import AppService
    from reasoningrec.ui.state import original_profile
    from reasoningrec.ui.views import ExplainViews
    service = AppService(pool, student="student-evidence", max_new_tokens=4)
    views, user = ExplainViews(service), pool.users["fashion"][0]
    builds = counting(monkeypatch, views_module, "build_request")
    fetched = counting(monkeypatch, pool, "evidence")
    renders = counting(monkeypatch, LLMScorer, "render")
    draft = {"dataset": "fashion", "user_id": user.user_id,
             "history": [[h.item_id, h.liked] for h in user.sample.history]}
    page = (draft, original_profile(user), user.sample.target)
    req = views.request(*page)                            # the teacher and evidence panels
    assert views.request(*page) is req and req.evidence
    explainer = service.student("fashion").explainer
    explainer.warm(req.ds, req.sample, evidence=views.request(*page).evidence)  # warm
    assert len(renders) == 1
    runs = RunEvents(service, views)
    updates = list(runs.run(time.perf_counter(), "fashion", user.user_id, *page))
    assert "Done" in updates[-1][0]
    assert len(builds) == 1 and len(fetched) == 1 and len(renders) == 2
    # the evidence handed over is what the scorer would fetch: the same P(Yes)
    events = list(explainer.stream(req.ds, req.sample, evidence=req.evidence))
    fresh = explainer.scorer().predict(req.ds, req.sample)
    assert events[0][1].p_yes == pytest.approx(fresh.p_yes, abs=1e-6)
    edited = views.request({**draft, "history": draft["history"][1:]}, *page[1:])
    assert len(builds) == 2 and edited.evidence == pool.evidence_for(edited.ds, edited.sample)
