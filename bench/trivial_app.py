"""A trivial ASGI endpoint for measuring the load generator itself: reads the body, answers a fixed 600-byte 200.

Run by the harness as ``uvicorn bench.trivial_app:app --no-access-log`` (one process, like ``hub serve``).
"""

from __future__ import annotations

from typing import Any

BODY = b"<xml>" + b"x" * 589 + b"</xml>"
HEADERS = [(b"content-type", b"application/xml"), (b"content-length", str(len(BODY)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Any path: 200 with BODY (``/healthz`` included, for the readiness poll)."""
    if scope["type"] != "http":
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
