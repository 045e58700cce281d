"""A third-party MCP client (the official Python SDK) driving the PromptContent MCP server.

    mcp_client.py stdio <server binary> <campaign id>      (the server's environment is inherited)
    mcp_client.py http <url> <bearer token> <campaign id>

Lists the tools, finds images with getContent, then drafts a brief with draftCampaignMessages
while offering sampling: its "model" answers the server's request with three messages in the
language the server asks for. Prints one JSON object. Used by tests/third_party.rs.
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession, types
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

SAMPLING_MODEL = "python-sdk-test-model"
sampled = []


async def sampling(context, params):
    """Answers like a model would: JSON with the three stages, in the language asked for."""
    system = params.system_prompt or ""
    sampled.append(system)
    if "Write in Spanish" in system:
        texts = {
            "awareness": "Conoce Café Aurora, el nuevo café frío de la casa para tus tardes.",
            "consideration": "Café Aurora se prepara en frío durante doce horas: suave y con todo el sabor.",
            "conversion": "Compra hoy tu Café Aurora y lleva el segundo gratis en la tienda.",
        }
    else:
        texts = {
            "awareness": "Meet Café Aurora, the new cold brew for your afternoons.",
            "consideration": "Café Aurora is brewed cold for twelve hours: smooth and full of flavour.",
            "conversion": "Buy your Café Aurora today and get the second can free in the store.",
        }
    return types.CreateMessageResult(
        role="assistant",
        content=types.TextContent(type="text", text=json.dumps(texts, ensure_ascii=False)),
        model=SAMPLING_MODEL,
    )


async def exercise(read, write, campaign):
    async with ClientSession(read, write, sampling_callback=sampling) as session:
        await session.initialize()
        tools = await session.list_tools()
        found = await session.call_tool("getContent", {"description": "a steaming cup of coffee", "limit": 3})
        bad = await session.call_tool("getContent", {"description": ""})
        brief = await session.call_tool(
            "draftCampaignMessages",
            {
                "campaignId": campaign,
                "campaignDescription": "Launch of Café Aurora cold brew: 2x1 on the first can during June.",
                "product": "Café Aurora",
                "populations": [
                    {"name": "Universitarios", "ageMin": 18, "ageMax": 24, "locales": ["es-MX"],
                     "interests": ["videojuegos"], "countryCodes": ["MX"]},
                ],
            },
        )
        return {
            "tools": sorted(t.name for t in tools.tools),
            "found_error": bool(found.is_error),
            "found": found.structured_content,
            "bad_error": bool(bad.is_error),
            "bad_text": [c.text for c in bad.content if getattr(c, "type", "") == "text"],
            "brief_error": bool(brief.is_error),
            "brief": brief.structured_content,
            "brief_text": [c.text for c in brief.content if getattr(c, "type", "") == "text"],
            "sampled": len(sampled),
        }


async def main():
    mode = sys.argv[1]
    if mode == "stdio":
        params = StdioServerParameters(command=sys.argv[2], args=[], env=dict(os.environ))
        async with stdio_client(params) as (read, write):
            out = await exercise(read, write, sys.argv[3])
    elif mode == "http":
        from mcp.shared._httpx_utils import create_mcp_http_client

        headers = {"Authorization": f"Bearer {sys.argv[3]}"}
        async with create_mcp_http_client(headers=headers) as http:
            async with streamable_http_client(sys.argv[2], http_client=http) as streams:
                out = await exercise(streams[0], streams[1], sys.argv[4])
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(out, ensure_ascii=False))


asyncio.run(main())
