"""The Salesforce fake served over loopback HTTP in a process of its own: a remote peer.

In process (`FakeSalesforce` as a transport adapter) the fake answers inside the caller's
interpreter, so a caller that overlaps its own work with a call in flight cannot show it: the
fake's Python and the caller's share one interpreter lock. Served here, the fake runs beside its
caller as a real CRM does (the CRM sync benchmark uses both setups, the same one on both sides
of a ratio):

    with served_fake() as org:        # starts `python -m tests.fakes.salesforce_server`
        sf = Salesforce(instance_url=org.instance_url, session_id=org.access_token,
                        session=org.session())

`org.session()` is a plain requests session whose adapter sends the fake's
https://<instance> URLs to http://127.0.0.1:<port> (keep-alive, TCP_NODELAY), so
simple-salesforce is used unchanged. Besides every path `FakeSalesforce` serves, three control
paths outside /services act on the org: GET /__fake/records/<sobject>, POST /__fake/ui_edit
{"sobject", "id", "values"}, POST /__fake/advance {"seconds"}. Requests are answered one at a
time (a lock around the fake), as the in-process fake answers them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from tests.fakes.salesforce_api import INSTANCE, FakeSalesforce, _json_value

CONTROL = "/__fake/"
ROOT = Path(__file__).resolve().parents[2]


class _LoopbackAdapter(HTTPAdapter):
    """Sends https://<the fake's instance>/... to http://127.0.0.1:<port>/..."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self.base = f"http://127.0.0.1:{port}"

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        parts = urlsplit(request.url or "")
        request.url = self.base + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().send(request, **kwargs)


@dataclass(frozen=True)
class ServedFake:
    """A served fake, as its callers see it."""

    port: int
    access_token: str
    instance_url: str = f"https://{INSTANCE}"

    def session(self) -> requests.Session:
        session = requests.Session()
        session.mount(self.instance_url, _LoopbackAdapter(self.port))
        return session

    def _control(self, method: str, path: str, body: Any = None) -> Any:
        response = requests.request(
            method, f"http://127.0.0.1:{self.port}{CONTROL}{path}", json=body, timeout=60
        )
        response.raise_for_status()
        return response.json()

    def records(self, sobject: str) -> list[dict[str, Any]]:
        return list(self._control("GET", f"records/{sobject}"))

    def ui_edit(self, sobject: str, record_id: str, **values: Any) -> None:
        self._control("POST", "ui_edit", {"sobject": sobject, "id": record_id, "values": values})

    def advance(self, seconds: float) -> None:
        self._control("POST", "advance", {"seconds": seconds})


@contextmanager
def served_fake() -> Iterator[ServedFake]:
    """A fresh fake org (no daily API limit to speak of) in its own process, until the end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.salesforce_server"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port, token = process.stdout.readline().split()
        yield ServedFake(int(port), token)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _handler(fake: FakeSalesforce) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        wbufsize = 1 << 16  # headers and body leave in one write (flushed per request)

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response_only(status)  # the fake's own Date header: its clock
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _control(self, body: bytes) -> None:
            action = self.path.removeprefix(CONTROL)
            data = json.loads(body) if body else {}
            with lock:
                if action.startswith("records/"):
                    answer: Any = fake.records(action.removeprefix("records/"))
                elif action == "ui_edit":
                    fake.org.ui_edit(data["sobject"], data["id"], **data["values"])
                    answer = {}
                elif action == "advance":
                    fake.clock.advance(float(data["seconds"]))
                    answer = {}
                else:
                    self._answer(404, {}, b"")
                    return
            content = json.dumps(answer, default=_json_value).encode()
            self._answer(200, {"Content-Type": "application/json"}, content)

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path.startswith(CONTROL):
                self._control(body)
                return
            request = requests.Request(
                self.command,
                f"https://{INSTANCE}{self.path}",
                headers=dict(self.headers.items()),
                data=body or None,
            ).prepare()
            with lock:
                response = fake.send(request)
            headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
            self._answer(response.status_code, headers, response.content or b"")

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve  # noqa: N815 (http.server names)

    return Handler


def main() -> None:
    fake = FakeSalesforce(api_limit=10**9)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    print(server.server_address[1], fake.access_token, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
