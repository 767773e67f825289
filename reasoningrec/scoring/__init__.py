"""Scoring: everything that turns a (user, candidate) sample into P(Yes) and, for LLMs, a rationale.

    protocol.py   Prediction and the Scorer interface every model implements
    options.py    PromptOptions: the paper's ablations and history choices (one source of flags)
    llm.py        LLMScorer: render a prompt once, read P(Yes) off a backend, explain
    rendered.py   RenderedPrompt: the one rendering of a sample that everything downstream reads
    registry.py   `--model` names -> scorers (shipped students, baselines, authors: replays)
    students.py   which student the app serves per dataset, and how the page names it
    live.py       the app's streaming adapter (a worker thread over a backend session)
    rank.py       many candidates for one user over one shared prefix
    pool_rank.py  the app's "top 10 for this user": which pool candidates, ranked by rank.py
    evidence.py   collaborative evidence from training ratings only
    blend.py      post-hoc logistic blend with a baseline
    authors.py    the paper's own student, replayed from its released outputs
    baselines/    classic recommenders in the same harness: popularity, mf, sasrec, lr, like-share
"""
