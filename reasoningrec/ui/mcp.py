"""The app as an MCP server: `python app.py --mcp` serves the /predict, /explain and /rank
endpoints (ui/api.py) as MCP tools over Streamable HTTP at /gradio_api/mcp/ (Gradio's
`launch(mcp_server=True)`, which needs the `mcp` package). An assistant can then ask "would
user 1 of MovieLens like item 48, and why?". Each tool's description and parameters come from
its function's docstring.

    python app.py --mcp        # then point an MCP client at http://localhost:7860/gradio_api/mcp/

Only these three are tools: the ratings endpoints (/rate_item, /vote) stay plain API routes,
because votes must come from people, and the page's own events are not tools either. On a Space
Gradio prefixes each tool name with the Space's name.
"""
from __future__ import annotations

import gradio as gr

MCP_TOOLS = ("predict", "explain", "rank")


def restrict_tools(demo: gr.Blocks) -> list[str]:
    """Keep only MCP_TOOLS on a launched app's MCP server; returns the tool names served."""
    server = getattr(demo, "mcp_server_obj", None)
    if server is None:
        raise RuntimeError("the app was not launched with mcp_server=True")
    wanted = {f"/{name}" for name in MCP_TOOLS}
    server.tool_to_endpoint = {tool: endpoint for tool, endpoint in server.tool_to_endpoint.items()
                               if endpoint in wanted}
    return sorted(server.tool_to_endpoint)
