"""The app: shipped demo pool, input checks, citations, escaping, saved prompt states, and the
named API through gradio_client against an in-process launch (SmolLM2, few tokens).

    .venv/bin/python -m pytest tests/test_app.py -q
    .venv/bin/python -m pytest tests/test_app.py -q -m "not slow"   # no model runs
"""
from __future__ import annotations

import html
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from reasoningrec.data import Item, load_dataset
from reasoningrec.demo_pool import POOL_DIR, DemoPool
from reasoningrec.citations import cited_items, cited_spans
from reasoningrec.pool_text import end_text
from reasoningrec.prompts import build
from reasoningrec.ui import render
from reasoningrec.ui.state import InputError, build_request, parse_history

from pool_users import loop_stopped_user

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def pool() -> DemoPool:
    return DemoPool.load()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the shipped pool ------------------------------------------------------------------------
def test_shipped_pool_has_the_users_rationales_and_attribution(pool):
    assert len(pool.users["ml1m"]) >= 30
    assert len(pool.users["fashion"]) >= 10
    assert all(u.user.profile for u in pool.users["fashion"])
    for name, users in pool.users.items():
        referenced = set()
        for u in users:
            assert u.candidates[0].item_id == u.sample.target and len(u.sample.history) >= 1
            assert len(u.candidates) >= 2                  # the target and other candidates
            referenced |= {h.item_id for h in u.sample.history} | {c.item_id for c in u.candidates}
            teacher = u.candidates[0].teacher              # Mixtral's, for the target only
            assert teacher.text.strip() and teacher.label == u.sample.label
            assert teacher.system.model == "Mixtral-8x7B-Instruct"
            assert all(c.teacher is None for c in u.candidates[1:])
        assert set(pool.datasets[name].items) == referenced  # only what the pool uses
    attribution = (POOL_DIR / "ATTRIBUTION.md").read_text()
    for source in ("GroupLens", "McAuley", "ReasoningRec", "MIT", "Mixtral-8x7B-Instruct",
                   "Llama-2-7B-chat"):
        assert source in attribution
    size = sum(f.stat().st_size for f in POOL_DIR.iterdir())
    assert size < 2_000_000, f"the demo pool should stay small, it is {size} bytes"


def test_pool_prompts_equal_full_dataset_prompts(pool, data_dir):
    for name in ("ml1m", "fashion"):
        full = load_dataset(name, data_dir)
        for pu in pool.users[name][:3]:
            real = full.sample("test", pu.sample.key or pu.user_id)
            assert real == pu.sample
            for template in ("student", "teacher_cot"):
                assert (build(template, pool.datasets[name], pu.sample).chat()
                        == build(template, full, real).chat())


# -- input checks ------------------------------------------------------------------------------
def test_unedited_request_is_the_pool_sample(pool):
    pu = pool.users["ml1m"][0]
    req = build_request(pool, "ml1m", pu.user_id, None, None, "")
    assert req.sample == pu.sample and not req.edited
    assert req.teacher == pu.candidates[0].teacher
    history = [[h.item_id, h.liked] for h in pu.sample.history]
    history[0][1] = not history[0][1]
    edited = build_request(pool, "ml1m", pu.user_id, None, parse_history(history), "")
    assert edited.history_edited and edited.teacher is None and edited.sample.split == "demo"
    assert edited.sample.history[0].liked != pu.sample.history[0].liked


@pytest.mark.parametrize("kwargs, message", [
    ({"history": []}, "history is empty"),
    ({"profile": "x" * 100_000}, "100,000 characters"),
    ({"history": [("no-such-item", True)]}, "Unknown item 'no-such-item'"),
    ({"candidate": "no-such-item"}, "Unknown candidate item 'no-such-item'"),
    ({"user_id": "no-such-user"}, "not in the ml1m demo pool"),
    ({"dataset": "netflix"}, "Unknown dataset 'netflix'"),
])
def test_bad_input_gets_a_clear_message(pool, kwargs, message):
    args = {"dataset": "ml1m", "user_id": pool.users["ml1m"][0].user_id, **kwargs}
    with pytest.raises(InputError, match=message):
        build_request(pool, **args)


def test_html_profile_is_plain_text_with_a_note(pool):
    pu = pool.users["fashion"][0]
    req = build_request(pool, "fashion", pu.user_id, "<script>alert(1)</script> likes <b>boots</b>")
    assert req.profile_edited and any("HTML" in n for n in req.notes)
    assert "<script>alert(1)</script>" in build("student", req.ds, req.sample).chat()[1]["content"]
    with pytest.raises(InputError, match="not valid JSON"):
        parse_history("[not json")


def test_rendered_text_is_escaped():
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    for html in (render.explanation(evil), render.message(evil, "error"),
                 render.teacher_panel(None, text=evil, model=evil, label=1),
                 render.history_table(_catalogue_with(evil), [("1", True)], {"1"})):
        assert "<script>" not in html and "<img" not in html and "&lt;script&gt;" in html


def _catalogue_with(title):
    from reasoningrec.data import Dataset
    return Dataset("x", "movie", {"1": Item("1", title)}, {}, {})


# -- citations ---------------------------------------------------------------------------------
def test_a_cut_explanation_ends_at_a_sentence_or_is_marked():
    long = "The user liked three dark thrillers with strong leads. The film also has a"
    assert end_text(long) == "The user liked three dark thrillers with strong leads. …"
    assert end_text("It fits. The user likes dr") == "It fits. The user likes dr …"
    assert end_text("  A whole sentence.  ") == "A whole sentence."
    assert end_text("") == ""


def test_api_token_cap_says_what_it_expects():
    import gradio as gr

    from reasoningrec.ui.api import token_cap
    assert token_cap("64") == 64 and token_cap(512) == 512 and token_cap(3.0) == 3
    assert token_cap(None) is None and token_cap(" ") is None   # the student's own cap
    for bad in ("abc", 0, 513, 2.5, "nan", -1):
        with pytest.raises(gr.Error, match="whole number from 1 to 512"):
            token_cap(bad)


def test_fashion_items_are_told_apart_and_thin_evidence_is_flagged(pool):
    ds = pool.datasets["fashion"]
    priced = next(i for i in ds.items.values() if i.attributes.get("price") and i.attributes.get("brand"))
    details = render.item_details(ds, priced.id)
    assert details == f"id {priced.id} · {priced.attributes['brand']} · {priced.attributes['price']}"
    html = render.history_table(ds, [(priced.id, True)])
    assert f"id {priced.id}" in html and priced.attributes["price"] in html
    thin = {"item_raters": 1, "item_liked_share": 1.0, "neighbours": 1,
            "neighbour_liked_share": 0.0, "mf_p_like": 0.7}
    html = render.evidence_table(ds, thin, False)
    assert "100% of 1" in html and "0% of 1" in html and html.count("too few to mean much") == 2
    many = {**thin, "item_raters": 250, "neighbours": 20}
    html = render.evidence_table(ds, many, False)
    assert "100% of 250" in html and "0% of 20" in html and "too few" not in html


def test_an_event_sent_before_a_dataset_switch_is_stale():
    from reasoningrec.ui.views import ExplainViews
    draft = {"dataset": "ml1m", "user_id": "1", "history": []}
    assert not ExplainViews.stale("ml1m", "1", draft)
    assert ExplainViews.stale("fashion", "1", draft)      # sent while Fashion was shown
    assert ExplainViews.stale("ml1m", "2", draft)         # sent for another user
    assert ExplainViews.stale("ml1m", "1", None)


def test_timing_line_counts_from_the_click():
    line = render.timing_line({"start": 6.0, "prediction": 6.3, "token": 6.4, "done": 8.0},
                              {"tokens": 20, "tokens_per_s": 12.5, "reused": 400, "prompt_tokens": 462})
    assert line.startswith("P(Yes) 6.30 s after your click · first token 6.40 s after it · "
                           "6.00 s of it waiting for the model")
    assert "400/462 prompt tokens reused" in line


def test_cited_items_match_titles_in_their_spellings():
    items = [Item("11", "American President, The"), Item("1", "Toy Story"), Item("6", "Heat"),
             Item("99", "City of Lost Children, The (Cité des enfants perdus, La)"),
             Item("f1", "Allegra K Lady Long Sleeve Letter Pattern Pullover Knit Shirt Black S")]
    text = ("Like The American President and toy story, this film is warm; the heat of the city "
            "of lost children... She bought the Allegra K Lady Long Sleeve shirt.")
    assert cited_items(text, items) == ["11", "1", "99", "f1"]   # "Heat" is too short to match
    spans = cited_spans(text, items)
    assert text[spans[0][0]:spans[0][1]] == "The American President"
    assert cited_items("Toy Storyteller", items) == []            # whole words only
    assert cited_items("", items) == []


# -- the model path ----------------------------------------------------------------------------
@pytest.mark.slow
def test_saved_prompt_state_gives_the_scratch_score_and_streams(pool):
    from reasoningrec.scoring.live import LiveExplainer
    from reasoningrec.models.loader import load_backend
    backend = load_backend("smollm2")
    ex = LiveExplainer(backend, max_new_tokens=8)
    ds, (a, b) = pool.datasets["fashion"], pool.users["fashion"][:2]
    first = ex.warm(ds, a.sample)
    ex.warm(ds, b.sample)                      # the live cache now holds another user
    events = list(ex.stream(ds, a.sample))
    kinds = [k for k, _ in events]
    assert kinds[0] == "prediction" and kinds[-1] == "done" and "token" in kinds
    stats = events[-1][1]
    assert stats["reused"] == stats["prompt_tokens"] == first["prompt_tokens"]  # restored, not re-read
    text = ex.scorer().render(ds, a.sample).text
    assert abs(events[0][1].p_yes - backend.p_yes(text, reuse_cache=False).p_yes) < 1e-6
    assert ex.predict(ds, a.sample).p_yes == pytest.approx(events[0][1].p_yes, abs=1e-6)


# -- gradio_client against the app -------------------------------------------------------------
@pytest.fixture(scope="module")
def client():
    from gradio_client import Client

    from reasoningrec.ui import build_app
    from reasoningrec.ui.service import AppService
    demo = build_app(AppService.start(max_new_tokens=24))
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1",
                            server_port=free_port())
    try:
        yield Client(url, verbose=False)
    finally:
        demo.close()


@pytest.mark.slow
def test_api_explain_streams_and_ends_with_the_prediction(client, pool):
    uid = pool.users["fashion"][0].user_id
    job = client.submit("fashion", uid, "", None, "", 16, api_name="/explain")
    updates = list(job)
    final = job.result()
    assert len(updates) >= 3 and final["done"] and final == updates[-1]
    assert final["prediction"] in ("Yes", "No") and 0 <= final["p_yes"] <= 1
    assert final["stats"]["tokens"] >= 1 and final["explanation"]
    texts = [u["explanation"] for u in updates[:-1]]
    assert all(b.strip().startswith(a.strip()) for a, b in zip(texts, texts[1:]))  # it grows
    # the final text is the streamed one, ending at a full sentence or marked "…" where cut
    assert final["explanation"] == end_text(texts[-1])
    assert final["explanation"].endswith((".", "!", "?", "…", '"', ")"))
    pred = client.predict("fashion", uid, api_name="/predict")
    assert pred["p_yes"] == pytest.approx(final["p_yes"], abs=1e-6)
    target = pool.users["fashion"][0].candidates[0]
    assert pred["teacher"]["rationale"] == target.teacher.text
    assert pred["teacher"]["model"].startswith("Mixtral-8x7B-Instruct, the paper's teacher")
    assert pred["paper_student"]["p_yes"] == target.texts["authors"].p_yes
    assert pred["paper_student"]["run"] == "llama2-7b-chat/sample256_valsample800_lr1e-4_valauc"


@pytest.mark.slow
def test_an_explanation_the_loop_stop_ended_says_so(client, pool):
    """On the page (a line under Run's explanation) and in /explain's last update; one that
    ended by itself does not."""
    from reasoningrec.ui.run import LOOP_STOPPED_NOTE, RunEvents
    from reasoningrec.ui.service import AppService
    from reasoningrec.ui.views import ExplainViews
    service = AppService.start()                           # the card's own length cap (256)
    runs = RunEvents(service, ExplainViews(service))
    for stopped in (True, False):
        uid = loop_stopped_user(pool, stopped)
        user = pool.user("fashion", uid)
        draft = {"dataset": "fashion", "user_id": uid,
                 "history": [(h.item_id, h.liked) for h in user.sample.history]}
        last = list(runs.run(None, "fashion", uid, draft, user.user.profile, ""))[-1]
        status, shown = last[0], last[2]
        assert "Done" in status and "rr-explanation" in shown
        assert (html.escape(LOOP_STOPPED_NOTE) in shown) == stopped, (uid, shown[-300:])
        final = client.submit("fashion", uid, "", None, "", 256, api_name="/explain").result()
        assert final["done"] and (final["stats"].get("stopped") == "repeating") == stopped


@pytest.mark.slow
def test_api_answers_bad_input_and_stays_up(client, pool):
    from gradio_client.exceptions import AppError
    uid = pool.users["ml1m"][0].user_id
    bad = [({"history": "[]"}, "history is empty"),
           ({"profile": "x" * 100_000}, "100,000 characters"),
           ({"history": '[["no-such-item", true]]'}, "Unknown item"),
           ({"candidate": "no-such-item"}, "Unknown candidate"),
           ({"history": "[not json"}, "not valid JSON")]
    for kwargs, message in bad:
        with pytest.raises(AppError, match=message):
            client.predict(**{"dataset": "ml1m", "user_id": uid, **kwargs}, api_name="/predict")
    for tokens in ("abc", "0", "2.5", "100000"):   # a clear message, not Gradio's generic one
        with pytest.raises(AppError, match="max_tokens must be a whole number from 1 to 512"):
            client.predict("ml1m", uid, "", None, "", tokens, api_name="/explain")
    out = client.predict(dataset="fashion", user_id=pool.users["fashion"][0].user_id,
                         profile="<script>alert(1)</script>", api_name="/predict")
    assert out["edited"] and any("HTML" in n for n in out["notes"])


@pytest.mark.slow
def test_two_concurrent_requests_both_complete_one_waits_in_the_queue(client, pool):
    from gradio_client.utils import Status
    a, b = pool.users["fashion"][:2]
    # an edited profile: no cached prefix, so the first request reads its whole prompt and is
    # still running when the second arrives (the student may end its rationale early)
    first = client.submit("fashion", a.user_id, "", "Likes bright colours and loose fits. " * 8,
                          "", 48, api_name="/explain")
    deadline = time.time() + 60  # the two submits race: let the first reach the model first
    while first.status().code not in (Status.PROCESSING, Status.ITERATING) and not first.done():
        assert time.time() < deadline, first.status()
        time.sleep(0.02)
    second = client.submit("fashion", b.user_id, "", None, "", 8, api_name="/explain")
    seen = set()
    while not second.done():
        status = second.status()
        seen.add((status.code, status.rank))
        time.sleep(0.02)
    assert first.result()["done"] and second.result()["done"]
    assert any(code == Status.IN_QUEUE for code, _ in seen), seen


@pytest.mark.slow
def test_app_py_starts_offline():
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "CPU_CORES": "2", "HF_HUB_OFFLINE": "1"}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        while time.perf_counter() - start < 300:   # a hang guard, not a speed claim
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/gradio_api/info", timeout=2) as r:
                    if r.status == 200 and b"/explain" in r.read():
                        break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                time.sleep(0.25)
        else:
            proc.terminate()
            pytest.fail(f"app.py did not answer: {proc.communicate(timeout=20)[0][-2000:]}")
        print(f"app.py answered after {time.perf_counter() - start:.1f} s")
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.slow
def test_live_teacher_answers_an_edited_input(pool):
    from reasoningrec.ui.service import AppService
    service = AppService(pool, max_new_tokens=8, teacher="smollm2")  # any spec works as teacher
    assert AppService(pool, max_new_tokens=8).teacher() is None     # unset: the UI shows a note
    pu = pool.users["fashion"][0]
    req = build_request(pool, "fashion", pu.user_id, "Loves bright sandals.")
    events = list(service.teacher().stream(req.ds, req.sample))
    assert req.edited and req.teacher is None
    assert events[0][0] == "prediction" and events[-1][0] == "done"


@pytest.mark.slow
def test_intro_says_what_each_column_is_without_quoting_student_titles(pool):
    from reasoningrec.ui import intro
    from reasoningrec.ui.service import AppService
    two = AppService(pool, student={"ml1m": "student", "fashion": "student-fashion-k896"},
                     max_new_tokens=8)                    # one student per dataset
    one = AppService(pool, student="student", max_new_tokens=8)   # one model for both
    assert len({s.title for s in two.students.values()}) == 2
    for service, says in ((two, "one per dataset"), (one, "one model")):
        text = intro(service)
        assert f"**Our student** ({says}, named in its column with its teacher)" in text
        assert not any(s.title in text for s in service.students.values())  # the column's job
        assert "Mixtral-8x7B-Instruct, the paper's teacher, told the true answer" in text
        assert "the paper's own Llama-2-7B student" in text    # the pool holds its Fashion texts
