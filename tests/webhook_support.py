"""A real local webhook receiver (http.server in a thread) that verifies every request with
the standardwebhooks library, and the settings the webhook tests share."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Server(ThreadingHTTPServer):
    # the default listen backlog (5) drops concurrent connections' SYNs: a 1 s retry each
    request_queue_size = 128
    daemon_threads = True


PUBLIC_ADDRESS = "93.184.215.14"  # what the tests' fake DNS answers for public names


class Receiver:
    """Receives webhooks on 127.0.0.1; ``status`` (an int, or a callable of the request
    number) decides the answer, ``hang`` (an Event) holds requests until set."""

    def __init__(self, secret: str | None = None, status=200):
        self.secret = secret
        self.status = status
        self.received: list[dict] = []  # verified payloads, in arrival order
        self.requests: list[dict] = []  # every request's headers
        self.rejected = 0
        self.hang: threading.Event | None = None
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    number = len(receiver.requests)
                    receiver.requests.append(dict(self.headers))
                if receiver.hang is not None:
                    # a receiver that never answers: hold the request, then drop it
                    receiver.hang.wait(30)
                    return
                status = receiver.status(number) if callable(receiver.status) else receiver.status
                if 200 <= status < 300:
                    try:
                        payload = Webhook(receiver.secret).verify(body, dict(self.headers))
                    except WebhookVerificationError:
                        receiver.rejected += 1
                        status = 400
                    else:
                        with receiver.lock:
                            receiver.received.append(payload)
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"status": status}).encode())

            def log_message(self, *args):
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        if self.hang is not None:
            self.hang.set()
        self.server.shutdown()
        self.server.server_close()

    def ids(self) -> list[str]:
        return [p["id"] for p in self.received]

    def wait_for(self, count: int, seconds: float = 30) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if len(self.received) >= count:
                return True
            time.sleep(0.05)
        return False


@contextlib.contextmanager
def receiving(secret=None, status=200):
    receiver = Receiver(secret, status)
    try:
        yield receiver
    finally:
        receiver.close()


def fake_resolve_host(host: str, port: int) -> list[str]:
    """The tests' DNS (there is none): ``*.example.com`` is public, ``localhost`` loopback."""
    import socket

    if host == "localhost":
        return ["127.0.0.1"]
    if host == "example.com" or host.endswith(".example.com"):
        return [PUBLIC_ADDRESS]
    raise socket.gaierror(-2, "Name or service not known")


def skip_existing_events() -> None:
    """Start the webhook fan-out after the events already in the outbox (the fixtures'
    own: creating the world's members creates customers, which emits events)."""
    from tenants.models import Event, WebhookFanout

    last = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    WebhookFanout.objects.update_or_create(pk=1, defaults={"position": last, "gaps": []})
