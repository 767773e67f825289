"""Decode settings (reasoningrec/models/decoding.py): validated, read from a student's card in
one place, passed to llama.cpp, where they change greedy generation; eval's flags override them
and a report records them.

    .venv/bin/python -m pytest tests/test_decoding.py -q
"""
from __future__ import annotations

import json

import pytest

from reasoningrec.cli import main
from reasoningrec.evaluate import report
from reasoningrec.models.decoding import (decode_settings, describe, for_dataset, max_tokens,
                                          parse_decode_for, penalties, slug, stop_loop_ngram)
from reasoningrec.repeats import loop_fields
from reasoningrec.scoring.registry import STUDENTS, load_scorer
from reasoningrec.scoring.students import resolve_student, student_for, student_version


def test_settings_are_validated_and_defaults_dropped():
    assert decode_settings(None) == {} == decode_settings({"repeat_penalty": 1})
    assert decode_settings({"repeat_penalty": 1.2, "presence_penalty": 0}) == {"repeat_penalty": 1.2}
    for bad, why in (({"top_k": 4}, "unknown decode setting 'top_k'"),
                     ({"repeat_penalty": 0}, "must be > 0"),
                     ({"repeat_penalty": True}, "must be a number"),
                     ({"frequency_penalty": "0.5"}, "must be a number"),
                     ([1.2], "must be an object")):
        with pytest.raises(ValueError, match=why):
            decode_settings(bad, "card.json")
    assert describe({}) == "greedy" and slug({}) == ""
    assert describe({"repeat_penalty": 1.2}) == "greedy, repeat_penalty=1.2"
    assert slug({"repeat_penalty": 1.2, "presence_penalty": 0.5}) == "pp0.5-rp1.2"


def test_the_length_cap_is_a_whole_number_kept_out_of_the_sampler():
    assert decode_settings({"max_tokens": 160}) == {}                   # the default
    assert decode_settings({"max_tokens": 256.0}) == {"max_tokens": 256}
    assert isinstance(decode_settings({"max_tokens": 256.0})["max_tokens"], int)
    for bad in (0, 1025, 12.5, -3, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="max_tokens must be a whole number from 1 to 1024"):
            decode_settings({"max_tokens": bad}, "card.json")
    both = decode_settings({"max_tokens": 256, "repeat_penalty": 1.2})
    assert penalties(both) == {"repeat_penalty": 1.2} and max_tokens(both) == 256
    assert max_tokens({}) == max_tokens(None) == 160
    assert slug(both) == "mt256-rp1.2" and describe(both) == "greedy, max_tokens=256, repeat_penalty=1.2"


def test_the_loop_stop_is_a_whole_number_kept_out_of_the_sampler():
    assert decode_settings({"stop_loop_ngram": 0}) == {} and stop_loop_ngram({}) == 0
    both = decode_settings({"stop_loop_ngram": 6.0, "repeat_penalty": 1.1})
    assert both == {"stop_loop_ngram": 6, "repeat_penalty": 1.1} and stop_loop_ngram(both) == 6
    assert penalties(both) == {"repeat_penalty": 1.1} and slug(both) == "rp1.1-sl6"
    for bad in (-1, 33, 2.5, float("nan")):
        with pytest.raises(ValueError, match="stop_loop_ngram must be a whole number from 0 to 32"):
            decode_settings({"stop_loop_ngram": bad}, "card.json")


def test_a_dataset_may_have_its_own_settings_over_the_cards():
    card = {"repeat_penalty": 1.1, "max_tokens": 256}
    by = {"fashion": {"repeat_penalty": 1.0}}       # the default value overrides the card's 1.1
    assert for_dataset(card, by, "fashion") == {"max_tokens": 256}
    assert for_dataset(card, by, "ml1m") == for_dataset(card, by, None) == decode_settings(card)
    assert for_dataset(None, None, "fashion") == {}
    for bad_by, why in (([1.0], "\"decode_by_dataset\" must map dataset names"),
                        ({"fashion": 1.0}, "decode_by_dataset 'fashion': \"decode\" must be"),
                        ({"beauty": {"top_k": 4}}, "decode_by_dataset 'beauty': unknown decode "
                                                   "setting 'top_k'")):   # checked, used or not
        with pytest.raises(ValueError, match=why):
            for_dataset(card, bad_by, "fashion", "card.json")
    assert parse_decode_for("fashion:repeat_penalty=1.0, max-tokens=256") == \
        ("fashion", {"repeat_penalty": 1.0, "max_tokens": 256})
    for bad, why in (("fashion", "expected DATASET:KEY=VALUE"), (":repeat_penalty=1", "expected"),
                     ("fashion:repeat_penalty", "expected KEY=NUMBER"), ("fashion:", "expected DATASET"),
                     ("fashion:repeat_penalty=x", "expected KEY=NUMBER"),
                     ("fashion:max_tokens=0", "max_tokens must be a whole number")):
        with pytest.raises(ValueError, match=why):
            parse_decode_for(bad)


def test_a_card_with_a_datasets_own_settings_serves_each_dataset_its_own(fashion):
    """student-fashion-k896 generates Fashion explanations without the repeat penalty (closer to
    Mixtral there) and ML-1M ones with it: the app, the pool and eval read one resolution."""
    cards = {name: json.loads((folder / "student.json").read_text())
             for name, folder in STUDENTS.items()}
    name = next(n for n, c in cards.items() if c.get("decode_by_dataset"))
    card = cards[name]
    for dataset in ("fashion", "ml1m"):
        info = student_for(dataset, name)
        assert info.decode == for_dataset(card["decode"], card["decode_by_dataset"], dataset)
    on_fashion, on_ml1m = student_for("fashion", name), student_for("ml1m", name)
    assert on_fashion.decode != on_ml1m.decode
    assert student_version(on_fashion, 256) != student_version(on_ml1m, 256)  # texts of their own
    assert load_scorer(name, fashion).decode == on_fashion.decode


@pytest.mark.slow
def test_the_loop_stop_ends_a_real_looping_explanation(fashion):
    """student-fashion-k896 without a repeat penalty loops on this Fashion test user (16 of the
    paper's first 100 do; benchmarks/results/explanation_loops_fashion_k896_low_penalty.md);
    with the stop its explanation is the same text, ended before the loop."""
    sample = fashion.sample("test", "1043")
    free = load_scorer("student-fashion-k896", fashion,
                       decode={"repeat_penalty": 1.0, "stop_loop_ngram": 0})  # not the card's 6
    stopped = load_scorer("student-fashion-k896", fashion,
                          decode={"repeat_penalty": 1.0, "stop_loop_ngram": 6})
    assert stopped.backend is free.backend and stopped.decode["stop_loop_ngram"] == 6
    whole = free.predict(fashion, sample, explain=True)
    cut = stopped.predict(fashion, sample, explain=True)
    assert loop_fields(whole.rationale)["loops"] and not loop_fields(cut.rationale)["loops"]
    assert whole.rationale.startswith(cut.rationale) and len(cut.rationale.split()) > 20
    assert cut.p_yes == whole.p_yes
    # the cut is said: in the prediction's record and as the stream's last event
    assert cut.extra["stopped"] == "repeating" and "stopped" not in whole.extra
    events = list(stopped.stream_explanation(fashion, sample))
    assert "".join(t for kind, t in events if kind == "token").strip() == cut.rationale
    assert events[-1] == ("stopped", "repeating")
    assert all(kind != "stopped" for kind, _ in free.stream_explanation(fashion, sample))


def test_every_shipped_card_is_read_once_and_versions_name_the_setting():
    for name, folder in STUDENTS.items():
        card = json.loads((folder / "student.json").read_text())
        info = resolve_student(name, fallback=False)
        assert info.decode == decode_settings(card.get("decode")), name
        plain = type(info)(**{**info.__dict__, "decode": {}})
        if penalties(info.decode):   # a new setting is a new model version: texts are redone
            assert student_version(info, 160) != student_version(plain, 160)
        flipped = {**info.decode, "stop_loop_ngram": 0 if stop_loop_ngram(info.decode) else 6}
        other = type(info)(**{**info.__dict__, "decode": decode_settings(flipped)})
        assert student_version(other, 160) != student_version(info, 160)  # the stop too
        # the cap is the version's own part, named once
        assert student_version(info, 256).count("max_tokens=") == 1
        assert student_version(info, 256) != student_version(info, 160)


def test_a_report_made_with_other_settings_does_not_resume(tmp_path):
    config = {"dataset": "fashion", "split": "test", "model": "m", "limit": 2, "n": 2,
              "seed": 42, "explanations": True, "prompt": {}, "sample": "paper"}
    report.prepare(tmp_path, {**config, "decode": {}}, overwrite=False)
    report.prepare(tmp_path, {**config, "decode": {"repeat_penalty": 1.0}}, overwrite=False)
    with pytest.raises(ValueError, match="decode"):
        report.prepare(tmp_path, {**config, "decode": {"repeat_penalty": 1.2}}, overwrite=False)
    old = {**config}                        # a report from before decode settings: greedy
    report.prepare(tmp_path / "old", old, overwrite=False)
    report.prepare(tmp_path / "old", {**config, "decode": {}}, overwrite=False)
    assert report.default_report_dir({**config, "decode": {"repeat_penalty": 1.2}}).name \
        == "fashion-test-m-n2-paper-explain-rp1.2"


def test_bad_flags_exit_with_one_line(data_dir, capsys):
    base = ["eval", "--dataset", "fashion", "--data-dir", str(data_dir), "--model", "smollm2",
            "--limit", "2"]
    assert main(base + ["--explanations", "--repeat-penalty", "0"]) != 0
    assert "repeat_penalty must be > 0" in capsys.readouterr().err
    assert main(base + ["--repeat-penalty", "1.2"]) != 0
    assert "add --explanations" in capsys.readouterr().err
    assert main(base + ["--explanations", "--max-tokens", "0.5"]) != 0
    assert "max_tokens must be a whole number from 1 to 1024" in capsys.readouterr().err


@pytest.mark.slow
def test_penalties_change_greedy_llamacpp_generation_and_flags_override_the_card(fashion):
    from reasoningrec.models.loader import load_backend
    prompt = ("The user likes shirts that fit well. The user likes shirts that fit well. "
              "The user likes")
    plain = load_backend("smollm2").generate(prompt, max_tokens=48)
    penalised = load_backend("smollm2", repeat_penalty=1.3).generate(prompt, max_tokens=48)
    assert plain != penalised                       # applies under greedy (temperature 0)
    assert loop_fields(plain)["loops"] and not loop_fields(penalised)["loops"]
    # a call's own penalties over the backend's: one model serves every setting
    shared = load_backend("smollm2")
    assert shared.generate(prompt, max_tokens=48, penalties={"repeat_penalty": 1.3}) == penalised
    assert "".join(load_backend("smollm2", repeat_penalty=1.3).stream(
        prompt, max_tokens=48, penalties={})) == plain
    name = next(iter(STUDENTS))
    scorer = load_scorer(name, fashion, decode={"repeat_penalty": 1.25})
    assert scorer.decode == scorer.penalties == {"repeat_penalty": 1.25}
    off = load_scorer(name, fashion, decode={"repeat_penalty": 1.0})
    assert off.decode == off.penalties == {} and off.backend is scorer.backend


def test_transformers_penalties_follow_llamacpps_rule_on_generated_tokens_only():
    import torch
    from reasoningrec.models.decoding import hf_logits_processor
    assert hf_logits_processor({"repeat_penalty": 1.0}, 2) is None
    proc = hf_logits_processor({"repeat_penalty": 2.0, "frequency_penalty": 0.5,
                                "presence_penalty": 0.1}, prompt_length=2)
    ids = torch.tensor([[3, 4, 5, 5, 7]])            # 3, 4: the prompt, never penalised
    scores = torch.tensor([[0.0, 0.0, 0.0, 1.0, 1.0, 4.0, 1.0, -2.0]])
    out = proc(ids, scores.clone())[0].tolist()
    assert out[3] == out[4] == 1.0
    assert out[5] == pytest.approx(4.0 / 2 - 2 * 0.5 - 0.1)   # positive: divided; count 2
    assert out[7] == pytest.approx(-2.0 * 2 - 1 * 0.5 - 0.1)  # negative: multiplied; count 1


@pytest.mark.slow
def test_transformers_backend_generates_with_the_penalty():
    from reasoningrec.models.loader import load_backend
    from reasoningrec.models.registry import smollm2_gguf
    prompt = ("The user likes shirts that fit well. The user likes shirts that fit well. "
              "The user likes")
    spec = f"hf:{smollm2_gguf()}"
    plain = load_backend(spec).generate(prompt, max_tokens=48)
    penalised = "".join(load_backend(spec, repeat_penalty=1.3).stream(prompt, max_tokens=48))
    assert loop_fields(plain)["loops"] and not loop_fields(penalised)["loops"]
    assert load_backend(spec).generate(prompt, max_tokens=48,
                                       penalties={"repeat_penalty": 1.3}) == penalised


def test_decode_settings_on_a_server_model_are_refused(fashion):
    with pytest.raises(ValueError, match="apply to llama.cpp and transformers models"):
        load_scorer("openai:http://localhost:9/v1#m", fashion, decode={"repeat_penalty": 1.2})


@pytest.mark.slow
def test_the_app_and_eval_generate_with_the_same_student_settings(fashion):
    """The app's Fashion student and `eval --model <it>` load one backend with the card's
    penalties (llama.cpp shares a model per options: the same object)."""
    from reasoningrec.scoring.registry import default_student
    from reasoningrec.ui.service import AppService
    name = default_student("fashion")
    raw = json.loads((STUDENTS[name] / "student.json").read_text())
    card = for_dataset(raw.get("decode"), raw.get("decode_by_dataset"), "fashion")
    served = AppService.start(backend="llamacpp").student("fashion")
    scorer = load_scorer(name, fashion)
    assert served.info.decode == scorer.decode == card
    assert served.explainer.backend is scorer.backend
    assert served.explainer.scorer().penalties == scorer.penalties == penalties(card)
    # ML-1M's student is the same model with other settings (the card's own 1.1): one instance
    on_ml1m = AppService.start(backend="llamacpp").student("ml1m")
    if on_ml1m.info.spec == served.info.spec:
        assert on_ml1m.explainer.backend is served.explainer.backend
    # the card's length cap: the app's explanations and eval's are cut at the same place
    assert served.explainer.max_new_tokens == scorer.max_new_tokens == max_tokens(card)
    capped = AppService.start(backend="llamacpp", max_new_tokens=12).student("fashion")
    assert capped.explainer.max_new_tokens == 12
