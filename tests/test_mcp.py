"""`python app.py --mcp`: the app's predict / explain / rank as MCP tools, listed and called
with the `mcp` Python client over Streamable HTTP (a real app.py process, real llama.cpp).

    nice -n 19 .venv/bin/python -m pytest tests/test_mcp.py -q
"""
from __future__ import annotations

import ast
import asyncio
import json
import os

import pytest

from reasoningrec.demo_pool import DemoPool
from tests.app_process import start_app
from tests.test_app import free_port


@pytest.fixture(scope="module")
def mcp_url(tmp_path_factory):
    port = free_port()
    env = {**os.environ, "CPU_CORES": "2",
           "REASONINGREC_RATINGS_DIR": str(tmp_path_factory.mktemp("ratings"))}
    proc = start_app(["--mcp", "--no-warm", "--max-tokens", "24"], env, port)
    try:
        yield f"http://127.0.0.1:{port}/gradio_api/mcp/"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def session_run(url: str, calls: list[tuple[str, dict]]):
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    async with streamable_http_client(url) as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = (await session.list_tools()).tools
            results = [await session.call_tool(name, args) for name, args in calls]
            return tools, results


def payload(result) -> dict:
    assert not result.isError, result.content
    [content] = result.content
    return ast.literal_eval(content.text)    # Gradio writes a dict result as its Python repr


@pytest.mark.slow
def test_mcp_lists_predict_explain_rank_and_answers(mcp_url):
    pool = DemoPool.load()
    user = pool.users["ml1m"][0]
    others = [c.item_id for c in user.candidates[1:3]]
    tools, (pred, expl, ranked, bad) = asyncio.run(session_run(mcp_url, [
        ("predict", {"dataset": "ml1m", "user_id": user.user_id}),
        ("explain", {"dataset": "ml1m", "user_id": user.user_id, "max_tokens": 12}),
        ("rank", {"dataset": "ml1m", "user_id": user.user_id,
                  "candidates": ",".join([user.sample.target, *others])}),
        ("predict", {"dataset": "ml1m", "user_id": "no-such-user"}),
    ]))
    by_name = {t.name: t for t in tools}
    assert sorted(by_name) == ["explain", "predict", "rank"]          # no rating tools
    for tool in tools:                                              # docstrings describe them
        assert "user" in tool.description and len(tool.description) > 80
        assert {"dataset", "user_id"} <= set(tool.inputSchema["properties"])
    assert "demo-pool user id" in json.dumps(by_name["rank"].inputSchema)
    p = payload(pred)
    assert p["prediction"] in ("Yes", "No") and 0 < p["p_yes"] < 1
    assert p["candidate"] == user.sample.target and p["teacher"]["rationale"]
    e = payload(expl)
    assert e["done"] and e["explanation"] and abs(e["p_yes"] - p["p_yes"]) < 1e-6
    r = payload(ranked)
    assert sorted(x["item_id"] for x in r["ranked"]) == sorted([user.sample.target, *others])
    assert [x["p_yes"] for x in r["ranked"]] == sorted((x["p_yes"] for x in r["ranked"]), reverse=True)
    target = next(x for x in r["ranked"] if x["item_id"] == user.sample.target)
    assert abs(target["p_yes"] - p["p_yes"]) < 0.02     # same prompt, prefix reused
    assert bad.isError and "not in the ml1m demo pool" in bad.content[0].text
