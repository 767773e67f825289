"""Demo-pool users the app tests pick by how their served explanation ends."""
from __future__ import annotations

import pytest


_ENDINGS: dict[tuple, dict[str, bool]] = {}  # the pool's Fashion ids -> {id: stopped}, in order


def loop_stopped_user(pool, stopped: bool) -> str:
    """The first Fashion pool user whose served explanation the loop stop ends (or, with
    stopped=False, ends by itself): 3 of the 15 are stopped at student-fashion-k896's Fashion
    settings (47, 1034, 770 at this writing). `pool`: a reasoningrec DemoPool. Users are
    generated in pool order and each one's ending is kept for the session (greedy decoding: a
    second generation gives the same text), so the tests that ask share one scan."""
    from reasoningrec.scoring.registry import default_student, load_scorer
    ds = pool.datasets["fashion"]
    seen = _ENDINGS.setdefault(tuple(u.user_id for u in pool.users["fashion"]), {})
    for user_id, ended_by_stop in seen.items():   # scanned in pool order: first match first
        if ended_by_stop == stopped:
            return user_id
    scorer = None
    for user in pool.users["fashion"]:
        if user.user_id in seen:
            continue
        scorer = scorer or load_scorer(default_student("fashion"), ds)
        seen[user.user_id] = "stopped" in scorer.predict(ds, user.sample, explain=True).extra
        if seen[user.user_id] == stopped:
            return user.user_id
    pytest.fail(f"no Fashion pool user whose explanation is {'' if stopped else 'not '}stopped")
