"""Small stdlib HTTP servers on 127.0.0.1 that play a provider's API for the gateway tests, stopped on exit."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


def read_body(handler: BaseHTTPRequestHandler) -> bytes:
    """The request body, by its length or in chunks (a streamed upload), read before anything is answered."""
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(body)
            body += handler.rfile.read(size)
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


class LocalAPI:
    """Answers every method with `answer(handler)`, in its own thread."""

    def __init__(self, answer: Callable[[BaseHTTPRequestHandler], None], keep_alive: bool = False):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def log_message(self, *args):
                pass

            def _answer(self):
                answer(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    """One answer with its length."""
    handler.send_response(status)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def send_json(handler: BaseHTTPRequestHandler, status: int, payload, headers: dict[str, str] | None = None) -> None:
    send(handler, status, json.dumps(payload).encode(), {"Content-Type": "application/json", **(headers or {})})


class SandboxAPI(LocalAPI):
    """The sandbox provider's API: `/api/items` answers one item with one more field than the `list_items` tool keeps;
    anything else fails (503). Every request is kept, with its headers."""

    def __init__(self):
        self.requests: list[dict] = []
        super().__init__(self._answer)

    def _answer(self, handler):
        self.requests.append({"path": handler.path, "headers": dict(handler.headers)})
        if handler.path == "/api/items":
            send_json(handler, 200, {"items": [{"id": 1, "title": "Buy milk", "done": False, "owner": "internal"}]})
        else:
            send_json(handler, 503, {"message": "maintenance"})

