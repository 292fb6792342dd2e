"""Real local receivers for real apprise deliveries: JSON over HTTP and SMTP, on 127.0.0.1 only."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    at: float  # time.time() when the request arrived
    title: str
    body: str


@dataclass
class JsonReceiver:
    """An HTTP server for apprise's json:// that records each notification.

    `failing = True` makes it answer 503, as a channel that is down would; `delay` (seconds)
    holds back the answer to an accepted notification, as a slow channel would.
    """

    failing: bool = False
    received: list[Received] = field(default_factory=list)
    refused: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    delay: float = 0.0

    def start(self) -> JsonReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                arrived = time.time()
                length = int(self.headers.get("Content-Length", "0"))
                payload: dict[str, Any] = json.loads(self.rfile.read(length) or b"{}")
                with receiver._lock:
                    if receiver.failing:
                        receiver.refused += 1
                        self.send_response(503)
                        self.end_headers()
                        return
                    receiver.received.append(
                        Received(arrived, str(payload.get("title", "")), str(payload.get("message", "")))
                    )
                time.sleep(receiver.delay)
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll: shutdown() waits for it (the default, 0.5 s, is half a second per receiver).
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def url(self, credentials: str = "") -> str:
        return f"json://{credentials}127.0.0.1:{self.port}/notify"

    def messages(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


class _MailHandler:
    def __init__(self, receiver: SmtpReceiver) -> None:
        self.receiver = receiver

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content or envelope.content)
        with self.receiver.lock:
            self.receiver.received.append((time.time(), message))
        return "250 OK"


class SmtpReceiver:
    """An SMTP server (aiosmtpd) for apprise's mailto:// that records each message."""

    def __init__(self) -> None:
        self.received: list[tuple[float, Message]] = []
        self.lock = threading.Lock()
        self.port = free_port()
        self._controller = Controller(_MailHandler(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpReceiver:
        self._controller.start()
        return self

    def url(self) -> str:
        return (
            f"mailto://127.0.0.1:{self.port}?to=patient@example.com&from=mgremind@example.com&secure=no&smtp=127.0.0.1"
        )

    def subjects(self) -> list[str]:
        with self.lock:
            return [str(message["Subject"]) for _, message in self.received]

    def messages(self) -> list[Received]:
        """Each message as (arrival, decoded subject, plain-text body), like JsonReceiver.messages()."""
        with self.lock:
            received = list(self.received)
        return [
            Received(at, str(make_header(decode_header(str(message["Subject"])))), _plain_text(message))
            for at, message in received
        ]

    def stop(self) -> None:
        self._controller.stop()


def _plain_text(message: Message) -> str:
    """The text/plain part of a (possibly multipart) message, decoded, with \\n line ends."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            charset = part.get_content_charset() or "utf-8"
            text = payload.decode(charset) if isinstance(payload, bytes) else str(payload)
            return text.replace("\r\n", "\n")  # SMTP's line ends
    return ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class StuckReceiver:
    """An HTTP "server" on 127.0.0.1 that takes every connection and never finishes an answer, as
    a dead or overloaded channel does. Silent (`trickle` 0): it reads the request and says
    nothing, so apprise waits for its read timeout. Trickling: it answers a status line, then one
    header byte every `trickle` seconds, for ever: every read gets a byte, so no socket timeout
    ever fires and only mgremind's own time limit ends the send."""

    def __init__(self, trickle: float = 0.0) -> None:
        self.trickle = trickle
        self._listener = socket.socket()
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._connections: list[socket.socket] = []

    def start(self) -> StuckReceiver:
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def url(self) -> str:
        return f"json://127.0.0.1:{self._listener.getsockname()[1]}/notify"

    @property
    def connections(self) -> int:
        """How many sends have reached it."""
        with self._lock:
            return len(self._connections)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:  # closed by stop()
                return
            with self._lock:
                self._connections.append(connection)
            threading.Thread(target=self._hold, args=(connection,), daemon=True).start()

    def _hold(self, connection: socket.socket) -> None:
        try:
            connection.recv(65536)  # the request
            if not self.trickle:
                self._stopped.wait()
                return
            connection.sendall(b"HTTP/1.1 200 OK\r\n")
            while not self._stopped.wait(self.trickle):
                connection.sendall(b"X")  # a header that never ends
        except OSError:  # the sender gave up and closed, or stop()
            return

    def stop(self) -> None:
        self._stopped.set()
        self._listener.close()
        with self._lock:
            for connection in self._connections:
                connection.close()
