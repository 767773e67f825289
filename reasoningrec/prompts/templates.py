"""The versioned prompt templates. Each builder returns a `Prompt` whose `template` is
"<name>/<version>"; whoever uses a prompt records that string next to its output.

    from reasoningrec.prompts import build
    p = build("teacher_cot", ds, sample)                       # latest version
    p = build("student/v1", ds, sample, with_profile=False)    # the paper's ablation
    p = build("zero_shot", ds, sample, history=my_entries)     # caller picks the history
    p = build("student", ds, sample, evidence=text)            # + a collaborative-evidence block

Wording follows the authors' code (millenniumbismay/llm-based-seq-rec, MIT):
- teacher_cot: ml_1m/ml_1m/finetune_reasoning_rec/reasoning_dataset/create_reasoning_prompts.ipynb
  (movies) and fashion/finetune_reasoning_rec_2/reasoning_dataset/create_reasoning_prompts.ipynb
  (products): "Now, we know that the user will LIKE the next item ... Explain with reasoning why".
- student: ml_1m/ml_1m/finetune_reasoning_rec/create_final_data.ipynb (instruction + "Prediction:
  Yes or No"); the paper's output put "Prediction: Yes" first, as here. student_direct: the
  same without the reasoning request (the paper's "w/o reasoning" ablation; ours).
- user_profile: ml_1m/ml_1m/user_profile_generation_mixtral.py ("Strictly in 200 words ...").
- item_description: fashion/fashion_data/create_item_description.py (25-word product
  description from reviews). The movie variant is ours: the authors' movie-summary prompt is
  not in the repository (only its output, movie_summary_25_words.csv).
- zero_shot: ours, the student's context with "Answer with only Yes or No".
- tallrec: SAI990323/TALLRec preprocess_movie.py (instruction/input) in the Alpaca template of
  its finetune_rec.py / generate_prompt.

Answer position (chosen deliberately): the student's assistant turn is opened with
"Prediction:" already written, so P(Yes) is read at the next token, which is " Yes"/" No" WITH
a leading space (one token each in SmolLM2's BPE; ":" never merges with it, so the prompt's
tokens are a prefix of prompt+completion tokens). Zero-shot and TALLRec prompts answer at the
very start of the assistant turn, where the answer tokens are "Yes"/"No" without a space: a
turn's first word follows the template's newline, so SmolLM2's BPE writes it with no leading
space (tests/test_prompts.py::test_turn_start_prompts_answer_with_the_first_assistant_token).
`Prompt.answer_texts` carries the pair; resolve token ids at run time.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from ..data.schema import Dataset, HistoryEntry, Sample
from .text import Prompt, cap_text, item_line, item_title, profile_text, wording

Builder = Callable[..., Prompt]
STUDENT_PREFIX = "Prediction:"
STUDENT_ANSWERS = (" Yes", " No")      # continuations of "Prediction:"
TURN_START_ANSWERS = ("Yes", "No")     # at the start of an assistant turn
PROFILE_HISTORY = 15                   # the paper profiles users from their first 15 items
# Prompt.meta key of the predicting templates: where, in the last message, the text that
# depends on the candidate item begins (all before it is shared by a user's candidates); with
# CANDIDATE_IN_ANSWER set, where it begins in the assistant prefix instead (candidate_last)
CANDIDATE_AT = "candidate_at"
CANDIDATE_IN_ANSWER = "candidate_in_answer"
ALPACA_PREAMBLE = ("Below is an instruction that describes a task, paired with an input that "
                   "provides further context. Write a response that appropriately completes "
                   "the request.")


def _context(ds: Dataset, sample: Sample, history: Sequence[HistoryEntry] | None,
             with_profile: bool, with_description: bool, profile: str | None):
    """(wording, profile paragraph, history lines, history ids, target item)."""
    words = wording(ds)
    entries = tuple(sample.history if history is None else history)
    prof = profile_text(ds.users.get(sample.user_id), profile) if with_profile else ""
    lines = [f"{'Liked' if e.liked else 'Disliked'} "
             f"{item_line(ds.item(e.item_id), with_description)}" for e in entries]
    return words, prof, lines, tuple(e.item_id for e in entries), ds.item(sample.target)


def _evidence_line(evidence: str | None) -> str:
    """The optional collaborative-evidence block (reasoningrec/scoring/evidence.py), placed right after
    the candidate; nothing at all without it, so those prompts stay the paper's."""
    return f"{evidence.strip()}\n" if evidence and evidence.strip() else ""


def _history_block(words, prof: str, lines: list[str]) -> str:
    head = f"User Profile - {prof}\n" if prof else ""
    return (f"{head}User {words.verb} the following {words.nouns} recently in the given order. "
            f"List of recent {words.nouns} and their description -\n" + "\n".join(lines))


def teacher_cot_v1(ds, sample, *, history=None, with_profile=True, with_description=True,
                   profile=None, evidence: str | None = None) -> Prompt:
    """Label-conditioned rationale: the teacher is told the TRUE answer and explains it."""
    if sample.label not in (0, 1):
        raise ValueError(f"{sample.sample_id}: teacher prompt needs label 0/1, got {sample.label!r}")
    words, prof, lines, ids, target = _context(ds, sample, history, with_profile,
                                               with_description, profile)
    verdict = "LIKE" if sample.label == 1 else "DISLIKE"
    given = "the user profile and a list" if prof else "a list"
    analyse = "the user profile and" if prof else "the user's"
    user = (f"You are provided with {given} of recent {words.nouns} that the user "
            f"{words.verb} and whether the user liked it or disliked it.\n"
            f"{_history_block(words, prof, lines)}\n"
            f"Now, we know that the user will {verdict} the next {words.noun} - "
            f"{item_line(target, with_description)}\n"
            f"{_evidence_line(evidence)}"
            f"As an expert {words.expert}, do the following steps -\n"
            f"1. Analyze {analyse} {words.noun} history given in order and summarize the "
            f"user's behavior by identifying the characteristics the user liked and disliked "
            f"about the {words.nouns}, in at most 100 words.\n"
            f"2. Explain with reasoning why the user will {verdict} the next {words.noun} - "
            f"\"{item_title(target)}\", in at most 100 words.\n"
            f"Do not use any information not mentioned above.")
    return Prompt("teacher_cot/v1", ({"role": "system", "content": f"You are an expert {words.expert}."},
                                     {"role": "user", "content": user}), ids)


def teacher_brief_v1(ds, sample, *, history=None, with_profile=True, with_description=True,
                     profile=None, evidence: str | None = None) -> Prompt:
    """Label-conditioned rationale for SMALL teachers (ours, not the paper's): titles only in
    two lists, the target with its description, a two-to-three-sentence answer. SmolLM2-135M
    loses the thread in teacher_cot's long multi-step prompt and echoes it back; this short
    form, greedy with a repeat penalty, gives rationales that cite the history."""
    if sample.label not in (0, 1):
        raise ValueError(f"{sample.sample_id}: teacher prompt needs label 0/1, got {sample.label!r}")
    words = wording(ds)
    entries = tuple(sample.history if history is None else history)
    liked = [item_title(ds.item(e.item_id)) for e in entries if e.liked]
    disliked = [item_title(ds.item(e.item_id)) for e in entries if not e.liked]
    target = ds.item(sample.target)
    verdict = "liked" if sample.label == 1 else "disliked"
    prof = profile_text(ds.users.get(sample.user_id), profile) if with_profile else ""
    user = ((f"About the user: {prof}\n" if prof else "")
            + f"{words.nouns.capitalize()} this user liked: {', '.join(liked) or 'none'}.\n"
            f"{words.nouns.capitalize()} this user disliked: {', '.join(disliked) or 'none'}.\n"
            f"The user {verdict} the {words.noun} {item_line(target, with_description)}\n"
            f"{_evidence_line(evidence)}"
            f"In two or three sentences, explain why the user {verdict} \"{item_title(target)}\", "
            f"comparing it with the {words.nouns} above.")
    return Prompt("teacher_brief/v1", ({"role": "system", "content": f"You are an expert {words.expert}."},
                                       {"role": "user", "content": user}),
                  tuple(e.item_id for e in entries))


def _predict_context(ds, sample, history, with_profile, with_description, profile,
                     evidence=None):
    words, prof, lines, ids, target = _context(ds, sample, history, with_profile,
                                               with_description, profile)
    given = "the user profile and list" if prof else "the list"
    system = (f"You are an expert {words.expert} and recommender. Given {given} of recent "
              f"liked and disliked {words.nouns}, identify whether the user will like the "
              f"target {words.noun} or not.")
    head = f"{_history_block(words, prof, lines)}\n"
    candidate = (f"The user {words.verb} the next target {words.noun} - "
                 f"{item_line(target, with_description)}\n{_evidence_line(evidence)}")
    return words, system, head, candidate, ids, target


def _target_named(words, target, candidate_last: bool) -> str:
    """How the request names the candidate: by title (the paper), or by place (candidate last)."""
    return (f"the target {words.noun} named at the start of your answer" if candidate_last
            else f"the target {words.noun} - \"{item_title(target)}\"")


def _answer_format(words, candidate_last: bool) -> str:
    """The request's answer line: "Prediction: Yes or No", or (candidate last) the line the
    assistant turn opens with."""
    return (f"{_answer_lead(words)}<{words.noun}>: Yes or No" if candidate_last else
            f"{STUDENT_PREFIX} Yes or No")


def _answer_lead(words) -> str:
    return f"Prediction for the target {words.noun} - "


def _layout(head: str, candidate: str, ask: str, words, target, with_description,
            evidence, candidate_last: bool, opening: str) -> tuple[str, str, dict]:
    """(user text, assistant prefix, meta). The paper's layout: history, candidate, request
    (which names the candidate again); the assistant turn opens with `opening` ("Prediction:"
    for the student, nothing for zero-shot).
    candidate_last (ours): history and request in the user turn, and the assistant turn opens
    by naming the candidate, tersely ("Prediction for the target movie - Heat (1995; Action,
    Crime, Thriller):", attribute values without their labels; its evidence before the
    answer), so a user's candidates share all but ~15 tokens, the turn markers included
    (scoring/rank.py). Either way the answer (" Yes"/" No") is the next token."""
    if not candidate_last:
        return (head + candidate + ask, opening,
                {CANDIDATE_AT: len(head) + candidate.index(" - ") + 3})
    lead = _answer_lead(words)
    named = lead + item_line(target, with_description, labels=False)
    ev = _evidence_line(evidence).strip()
    prefix = named + (f"\n{ev}\n{STUDENT_PREFIX[:-1]}" if ev else "") + ":"
    return head + ask, prefix, {CANDIDATE_AT: len(lead), CANDIDATE_IN_ANSWER: True}


def student_v1(ds, sample, *, history=None, with_profile=True, with_description=True,
               profile=None, evidence: str | None = None, candidate_last: bool = False) -> Prompt:
    """Prediction-first student prompt; the assistant turn already holds "Prediction:".
    `candidate_last`: the candidate in the answer's first line (ours, _layout)."""
    return _student("student/v1", ds, sample, history, with_profile, with_description, profile,
                    evidence, candidate_last)


def student_direct_v1(ds, sample, *, history=None, with_profile=True, with_description=True,
                      profile=None, evidence: str | None = None,
                      candidate_last: bool = False) -> Prompt:
    """The paper's "w/o reasoning" ablation (TALLRec-style direct answer): the student prompt
    without the request for reasoning; the answer is read at the same place, after
    "Prediction:", and a student trained on it learns the completion " Yes" / " No" alone."""
    return _student("student_direct/v1", ds, sample, history, with_profile, with_description,
                    profile, evidence, candidate_last)


def _student(name, ds, sample, history, with_profile, with_description, profile,
             evidence=None, candidate_last=False) -> Prompt:
    words, system, head, candidate, ids, target = _predict_context(
        ds, sample, history, with_profile, with_description, profile, evidence)
    task = f"Predict whether the user will like {_target_named(words, target, candidate_last)}"
    answer = _answer_format(words, candidate_last)
    if name.startswith("student_direct"):
        ask = f"{task}. Answer in the following format -\n{answer}"
    else:
        ask = (f"{task}, then explain with reasoning in at most 100 words. Answer in the "
               f"following format -\n{answer}\nReasoning: why the user will like "
               f"or dislike it")
    user, opened, meta = _layout(head, candidate, "Do not use any information not mentioned "
                                 "above. " + ask, words, target, with_description, evidence,
                                 candidate_last, STUDENT_PREFIX)
    return Prompt(name, ({"role": "system", "content": system},
                         {"role": "user", "content": user}), ids,
                  assistant_prefix=opened, answer_texts=STUDENT_ANSWERS, meta=meta)


def student_completion(label: int, reasoning: str | None) -> str:
    """The training target after "Prediction:": " Yes\\nReasoning: ..." (one line of reasoning);
    with reasoning=None (the direct-answer ablation) just " Yes" or " No"."""
    if label not in (0, 1):
        raise ValueError(f"label must be 0 or 1, got {label!r}")
    if reasoning is None:
        return STUDENT_ANSWERS[1 - label]
    text = cap_text(reasoning, "reasoning")
    return f"{STUDENT_ANSWERS[1 - label]}\nReasoning: {text}".rstrip()


def parse_student_output(text: str) -> tuple[int | None, str]:
    """(label or None, reasoning) from a generated continuation of "Prediction:"."""
    head, _, rest = text.partition("\n")
    word = head.replace(STUDENT_PREFIX, "").strip().rstrip(".").lower()
    label = {"yes": 1, "no": 0}.get(word)
    reasoning = rest.strip()
    return label, reasoning.removeprefix("Reasoning:").strip()


def zero_shot_v1(ds, sample, *, history=None, with_profile=True, with_description=True,
                 profile=None, evidence: str | None = None, candidate_last: bool = False) -> Prompt:
    """Same context as the student; the answer is the first assistant token (candidate last:
    the first after the assistant turn's opening line, _layout)."""
    words, system, head, candidate, ids, target = _predict_context(
        ds, sample, history, with_profile, with_description, profile, evidence)
    ask = (f"Will the user like {_target_named(words, target, candidate_last)}? Answer with "
           f"only Yes or No.")
    user, opened, meta = _layout(head, candidate, ask, words, target, with_description,
                                 evidence, candidate_last, "")
    return Prompt("zero_shot/v1", ({"role": "system", "content": system},
                                   {"role": "user", "content": user}), ids,
                  assistant_prefix=opened,
                  answer_texts=STUDENT_ANSWERS if candidate_last else TURN_START_ANSWERS,
                  meta=meta)


def tallrec_v1(ds, sample, *, history=None, with_profile=True, with_description=True,
               profile=None) -> Prompt:
    """TALLRec's titles-only prompt; profile/description flags are accepted and ignored."""
    words = wording(ds)
    entries = tuple(sample.history if history is None else history)
    liked = ", ".join(f'"{item_title(ds.item(e.item_id))}"' for e in entries if e.liked)
    disliked = ", ".join(f'"{item_title(ds.item(e.item_id))}"' for e in entries if not e.liked)
    instruction = (f"Given the user's preference and unpreference, identify whether the user "
                   f"will like the target {words.noun} by answering \"Yes.\" or \"No.\".")
    head = (f"### Instruction:\n{instruction}\n\n### Input:\nUser Preference: {liked}\n"
            f"User Unpreference: {disliked}\nWhether the user will like the target {words.noun} \"")
    return Prompt("tallrec/v1", ({"role": "system", "content": ALPACA_PREAMBLE},
                                 {"role": "user", "content": f"{head}"
                                  f"{item_title(ds.item(sample.target))}\"?"}),
                  tuple(e.item_id for e in entries), answer_texts=TURN_START_ANSWERS,
                  response_cue="### Response:\n", meta={CANDIDATE_AT: len(head)})


def user_profile_v1(ds, sample, *, history=None, with_profile=True, with_description=True,
                    profile=None) -> Prompt:
    """Profile from the user's first PROFILE_HISTORY rated items (default: the oldest of
    `sample.history`; pass `history` to profile from the full rating list)."""
    words = wording(ds)
    entries = tuple(sample.history[:PROFILE_HISTORY] if history is None else history)
    lines = [f"{'Liked' if e.liked else 'Disliked'} "
             f"{item_line(ds.item(e.item_id), with_description)}" for e in entries]
    user = (f"List of the user's liked and disliked {words.nouns} and their descriptions are "
            f"given below -\n" + "\n".join(lines) + "\n"
            f"Strictly in 200 words, generate a concise user profile describing the "
            f"characteristics of {words.nouns} the user likes and dislikes. Do not include "
            f"information not present in the {words.noun} descriptions.")
    return Prompt("user_profile/v1", ({"role": "system", "content": f"You are an expert {words.expert}."},
                                      {"role": "user", "content": user}),
                  tuple(e.item_id for e in entries))


def item_description_v1(ds: Dataset, item_id: str, reviews: Sequence[str] = ()) -> Prompt:
    """A 25-word item description: from reviews for products (the paper), from the known
    details (title, year, genres, plot) for movies; the existing description is not shown,
    since it is what the prompt produces. Each review is capped."""
    words, item = wording(ds), ds.item(item_id)
    if ds.domain == "product":
        if not reviews:
            raise ValueError(f"{ds.name} item {item_id}: the product description prompt needs reviews")
        text = "\n".join(cap_text(r, "review") for r in reviews)
        user = (f"As an expert {words.expert} and advertiser, extract the strong (positive) and "
                f"weak (negative) features or characteristics of the product from the given "
                f"reviews. The product is \"{item_title(item)}\". You are given the list of "
                f"reviews about the product -\n{text}\nGive a 25 word concise product "
                f"description mentioning strong and weak features of the product.")
    else:
        extra = "\n".join(cap_text(r, "review") for r in reviews)
        plot = cap_text(item.attributes.get("plot"), "review")
        user = (f"Known details of the movie -\n{item_line(item, with_description=False)}"
                + (f"\nPlot: {plot}" if plot else "")
                + (f"\nWhat viewers said -\n{extra}" if extra else "")
                + "\nIn 25 words, write a concise summary of this movie: its genre, story and "
                  "what makes it appealing or not. Do not use information not given above.")
    return Prompt("item_description/v1", ({"role": "system", "content": f"You are an expert {words.expert}."},
                                          {"role": "user", "content": user}), (item.id,))


TEMPLATES: dict[str, Builder] = {
    "teacher_cot/v1": teacher_cot_v1,
    "teacher_brief/v1": teacher_brief_v1,
    "student/v1": student_v1,
    "student_direct/v1": student_direct_v1,
    "zero_shot/v1": zero_shot_v1,
    "tallrec/v1": tallrec_v1,
    "user_profile/v1": user_profile_v1,
    "item_description/v1": item_description_v1,
}


def get_template(name: str) -> tuple[str, Builder]:
    """("name/vN", builder) for "name/vN", or for "name" the highest version."""
    if name in TEMPLATES:
        return name, TEMPLATES[name]
    versions = sorted((k for k in TEMPLATES if k.split("/")[0] == name),
                      key=lambda k: int(k.split("/v")[1]))
    if not versions:
        raise KeyError(f"unknown prompt template {name!r}; known: {sorted(TEMPLATES)}")
    return versions[-1], TEMPLATES[versions[-1]]


def build(name: str, ds: Dataset, sample: Sample, **options) -> Prompt:
    """Build the sample prompt named `name` (see module doc)."""
    return get_template(name)[1](ds, sample, **options)
