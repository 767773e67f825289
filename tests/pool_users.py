"""Demo-pool users the app tests pick by how their served explanation ends."""
from __future__ import annotations

import pytest


def loop_stopped_user(pool, stopped: bool) -> str:
    """The first Fashion pool user whose served explanation the loop stop ends (or, with
    stopped=False, ends by itself): 3 of the 15 are stopped at student-fashion-k896's Fashion
    settings (47, 1034, 770 at this writing). `pool`: a reasoningrec DemoPool."""
    from reasoningrec.scoring.registry import default_student, load_scorer
    ds = pool.datasets["fashion"]
    scorer = load_scorer(default_student("fashion"), ds)
    for user in pool.users["fashion"]:
        if ("stopped" in scorer.predict(ds, user.sample, explain=True).extra) == stopped:
            return user.user_id
    pytest.fail(f"no Fashion pool user whose explanation is {'' if stopped else 'not '}stopped")
