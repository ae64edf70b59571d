"""The screener and token pages (`megatron web`): a FastAPI app over the marts, read-only, as the analyst role."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from megatron.cluster import port_free
from megatron.errors import MegatronError
from megatron.web.app import create_app

DEFAULT_PORT = 8000
HOST = "127.0.0.1"


def address(port: int = DEFAULT_PORT) -> str:
    """The screener's address."""
    return f"http://{HOST}:{port}/"


def _server(url: str, port: int):  # type: ignore[no-untyped-def]
    import uvicorn

    config = uvicorn.Config(create_app(url), host=HOST, port=port, log_level="warning", access_log=False)
    return uvicorn.Server(config)


def serve(url: str, port: int = DEFAULT_PORT) -> None:
    """Serve the pages on 127.0.0.1:`port` until interrupted, reading through `url` (megatron.db.web_url)."""
    _server(url, port).run()


@contextmanager
def in_background(url: str, port: int = DEFAULT_PORT, timeout: float = 30.0) -> Iterator[str]:
    """Serve the pages from a thread of this process (what `megatron serve` does beside its flows): yields the
    screener's address once it answers, and stops the server on the way out."""
    if not port_free(port):
        raise MegatronError(
            f"Port {port} is taken, so the screener cannot listen there: stop the program using it, give "
            f"another port with --web-port, or leave the pages out with --no-web."
        )
    server = _server(url, port)
    thread = threading.Thread(target=server.run, name="megatron-web", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive():
            raise MegatronError(f"The screener could not start on port {port}; see the messages above.")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise MegatronError(f"The screener did not start on port {port} within {timeout:.0f} s.")
        time.sleep(0.05)
    try:
        yield address(port)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


__all__ = ["DEFAULT_PORT", "HOST", "address", "create_app", "in_background", "serve"]
