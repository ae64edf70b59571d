"""The screener and token pages (`megatron web`): a FastAPI app over the marts, read-only, as the analyst role."""

from __future__ import annotations

from megatron.web.app import create_app

DEFAULT_PORT = 8000
HOST = "127.0.0.1"


def address(port: int = DEFAULT_PORT) -> str:
    """The screener's address."""
    return f"http://{HOST}:{port}/"


def serve(url: str, port: int = DEFAULT_PORT) -> None:
    """Serve the pages on 127.0.0.1:`port` until interrupted, reading through `url` (megatron.db.web_url)."""
    import uvicorn

    uvicorn.run(create_app(url), host=HOST, port=port, log_level="warning", access_log=False)


__all__ = ["DEFAULT_PORT", "HOST", "address", "create_app", "serve"]
