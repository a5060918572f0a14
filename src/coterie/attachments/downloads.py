"""How a file leaves Coterie: always as a download, never rendered by the browser.

`Content-Disposition: attachment` with the cleaned name (RFC 6266, UTF-8 per RFC 8187), the
sniffed type (or `application/octet-stream`), `X-Content-Type-Options: nosniff` and
`Content-Security-Policy: sandbox` (so even a file a browser chose to render could run nothing
and reach nothing), and `Cache-Control: private, no-store` (a file is for those who may see it
now, not for a shared cache). The API and the page download share this response.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.responses import StreamingResponse

from coterie.attachments.filenames import content_disposition
from coterie.attachments.sniffing import OFFICE_TYPES, SIGNATURE_TYPES, TEXT_EXTENSIONS
from coterie.models.attachment import Attachment

SERVED_TYPES = frozenset({*SIGNATURE_TYPES, *OFFICE_TYPES.values(), *TEXT_EXTENSIONS.values()})


def served_type(content_type: str) -> str:
    """The stored (sniffed) type when it is one we allow, else application/octet-stream."""
    if content_type in SERVED_TYPES:
        return content_type + ("; charset=utf-8" if content_type.startswith("text/") else "")
    return "application/octet-stream"


def download(row: Attachment, chunks: Iterator[bytes]) -> StreamingResponse:
    return StreamingResponse(
        chunks,
        media_type=served_type(row.content_type),
        headers={
            "Content-Disposition": content_disposition(row.filename),
            "Content-Length": str(row.size),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": "private, no-store",
            "ETag": f'"{row.sha256}"',
        },
    )
