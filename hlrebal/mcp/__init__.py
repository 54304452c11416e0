"""hlrebal as an MCP server (``hlrebal mcp``, the optional extra ``hlrebal[mcp]``): the tools an LLM
client calls to see the account, propose a plan and, when allowed, execute exactly that plan.

The rooms: ``desk`` (what each tool does, with hlrebal's own code only: testable without the SDK)
and ``server`` (the tools served over stdio with the official ``mcp`` SDK, imported only there).
See docs/agents.md for a client configuration and the propose, review, execute flow.
"""
