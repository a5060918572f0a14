"""How Coterie is served: the options `coterie serve` gives uvicorn, shared with the test servers.

- HTTP/1.1 by httptools (uvicorn[standard]), through `coterie.kit.http_head`, which refuses a
  request line and headers over `COTERIE_MAX_REQUEST_HEADER_BYTES` with 431 (neither uvicorn nor
  httptools limits them).
- uvicorn's own proxy-header handling is off: the app honours X-Forwarded-For and
  X-Forwarded-Proto itself, and only from `COTERIE_TRUSTED_PROXIES` (uvicorn would trust any
  from 127.0.0.1), so the setting means the same under any ASGI server.
"""

from __future__ import annotations

from typing import Any

HTTP_PROTOCOL = "coterie.kit.http_head:HeadLimitedHttpToolsProtocol"


def uvicorn_options() -> dict[str, Any]:
    return {"http": HTTP_PROTOCOL, "proxy_headers": False}
