"""A third-party MCP client (the official Python SDK) driving the PromptSales sales MCP server.

    mcp_client.py stdio <server binary>         (the server's environment is inherited)
    mcp_client.py http <url> <bearer token>

Over http, MCP_TRACEPARENT adds a `traceparent` header to every request, and MCP_CA_FILE makes
the client trust that CA (only) for an https URL, with TLS 1.3 at least.

Lists the tools, asks one question, and prints one JSON object: the tool names and the
structured answer. Used by tests/third_party.rs.
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

QUESTION = os.environ.get("MCP_QUESTION", "¿Cuáles fueron las ventas del mes pasado?")


async def exercise(read, write):
    async with ClientSession(read, write) as session:
        await session.initialize()
        tools = await session.list_tools()
        result = await session.call_tool("ask", {"question": QUESTION})
        return {
            "tools": sorted(t.name for t in tools.tools),
            "is_error": bool(result.is_error),
            "text": [c.text for c in result.content if getattr(c, "type", "") == "text"],
            "structured": result.structured_content,
        }


def http_client(headers):
    """The SDK's HTTP client; over https with MCP_CA_FILE set, one that trusts only that CA and
    accepts nothing older than TLS 1.3."""
    ca = os.environ.get("MCP_CA_FILE")
    if not ca:
        from mcp.shared._httpx_utils import create_mcp_http_client

        return create_mcp_http_client(headers=headers)
    import ssl

    import httpx2

    context = ssl.create_default_context(cafile=ca)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    return httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300), verify=context)


async def main():
    mode = sys.argv[1]
    if mode == "stdio":
        params = StdioServerParameters(command=sys.argv[2], args=[], env=dict(os.environ))
        async with stdio_client(params) as (read, write):
            out = await exercise(read, write)
    elif mode == "http":
        headers = {"Authorization": f"Bearer {sys.argv[3]}"}
        # A W3C trace context of the client's own, sent with every request.
        if os.environ.get("MCP_TRACEPARENT"):
            headers["traceparent"] = os.environ["MCP_TRACEPARENT"]
        async with http_client(headers) as http:
            async with streamable_http_client(sys.argv[2], http_client=http) as streams:
                out = await exercise(streams[0], streams[1])
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(out, ensure_ascii=False))


asyncio.run(main())
