"""The Ollama-compatible door: any Ollama client, Home Assistant's Ollama integration included.

It runs on its own listener (``ollama_api`` options, off by default) and speaks Ollama's REST
API: ``POST /api/chat`` (NDJSON streaming by default), ``GET /api/tags``, ``POST /api/show``,
``GET /api/version``, ``GET /api/ps``, ``POST /api/pull`` and ``HEAD``/``GET /``. Requests go
through the same manager as every other door (routing, failover, budgets, ledger); errors come
back in Ollama's ``{"error": "..."}`` shape.
"""
