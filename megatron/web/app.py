"""The web app: the screener at `/`, token pages at `/token/<mint>`, JSON under `/api/`, the dbt docs site
under `/dbt-docs/`. Thin: every number comes from a parameterized query in `megatron.web.queries`, run on a
read-only connection as the analyst role; there is no write path. Bad input gets a sentence (404/422),
never a stack trace."""

from __future__ import annotations

import logging
import os
import re
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

import plotly
import psycopg
from fastapi import FastAPI, Path as PathParam, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool
from starlette.exceptions import HTTPException as StarletteHTTPException

from megatron.paths import project_root
from megatron.web import queries

HERE = Path(__file__).resolve().parent
PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
MINT_PATTERN = r"^[1-9A-HJ-NP-Za-km-z]{32,44}$"
DBT_DOCS_FILES = ("index.html", "manifest.json", "catalog.json")
# every session of the app: read-only transactions, and no query runs longer than 20 s
SESSION_OPTIONS = "-c default_transaction_read_only=on -c statement_timeout=20s"
DEFAULT_PREFECT_UI = "http://127.0.0.1:4200"

log = logging.getLogger("megatron.web")

Mint = Annotated[str, PathParam(pattern=MINT_PATTERN, description="token mint address")]
SortName = Literal["total_score", "technical_score", "holder_score", "social_score", "progress", "market_cap",
                   "volume_24h", "holders", "age", "symbol"]


class NotFound(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def prefect_ui_url() -> str | None:
    """PREFECT_UI_URL when set; else the UI beside PREFECT_API_URL, or the local one, when it answers."""
    explicit = os.environ.get("PREFECT_UI_URL", "").strip()
    if explicit:
        return explicit
    api = os.environ.get("PREFECT_API_URL", "").strip()
    candidate = api.removesuffix("/").removesuffix("/api") if api else DEFAULT_PREFECT_UI
    parsed = urlparse(candidate)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 80), timeout=0.2):
            return candidate
    except OSError:
        return None


def _sentence_for_validation(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("query", "path", "body")]
        name = ".".join(loc) or "the request"
        given = err.get("input")
        msg = str(err.get("msg", "is not valid")).removeprefix("Value error, ")
        if name == "mint":
            parts.append(f"'{given}' is not a Solana mint address (32 to 44 base58 characters).")
        else:
            parts.append(f"The parameter '{name}' is not valid ({msg.lower()}); it was {given!r}.")
    return " ".join(parts) or "The request is not valid."


def create_app(url: str) -> FastAPI:
    """The app on the server at `url` (a role that may only read: see megatron.db.web_url)."""
    options = str(conninfo_to_dict(url).get("options") or "")
    conninfo = make_conninfo(url, options=f"{options} {SESSION_OPTIONS}".strip())
    pool = ConnectionPool(conninfo, min_size=1, max_size=4, open=False, name="megatron-web",
                          kwargs={"autocommit": True})

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        pool.open(wait=False)
        try:
            yield
        finally:
            pool.close()

    app = FastAPI(title="Megatron", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @contextmanager
    def connection() -> Iterator[psycopg.Connection]:
        with pool.connection(timeout=15) as conn:
            yield conn

    def wants_html(request: Request) -> bool:
        return not request.url.path.startswith("/api/")

    def error(request: Request, status: int, message: str) -> Response:
        if wants_html(request):
            return templates.TemplateResponse(
                request, "error.html", {"status": status, "message": message, "prefect_url": prefect_ui_url()},
                status_code=status)
        return JSONResponse({"error": message}, status_code=status)

    @app.exception_handler(RequestValidationError)
    def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return error(request, 422, _sentence_for_validation(exc))

    @app.exception_handler(NotFound)
    def _not_found(request: Request, exc: NotFound) -> Response:
        return error(request, 404, exc.message)

    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return error(request, 404, f"There is no page at {request.url.path}.")
        if exc.status_code == 405:
            return error(request, 405, "This site only reads: no page here accepts that method.")
        return error(request, exc.status_code, str(exc.detail))

    @app.exception_handler(psycopg.OperationalError)
    def _db_down(request: Request, exc: psycopg.OperationalError) -> Response:
        reason = (str(exc).strip().splitlines() or ["unknown error"])[-1]
        log.warning("database error: %s", reason)
        return error(request, 503, f"The database cannot be reached right now ({reason}); try again shortly.")

    @app.exception_handler(psycopg.errors.UndefinedTable)
    @app.exception_handler(psycopg.errors.InvalidSchemaName)
    def _not_built(request: Request, exc: psycopg.Error) -> Response:
        log.warning("a mart is missing: %s", str(exc).strip().splitlines()[0] if str(exc).strip() else exc)
        return error(request, 503, "The marts this page reads have not been built yet: `megatron serve` builds "
                                   "them within a minute of starting, or run `megatron dbt build` now.")

    @app.exception_handler(Exception)
    def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return error(request, 500, "Something went wrong while building this page; the error is in the server log.")

    def screener_filter(platform: str | None, min_progress: float | None, max_progress: float | None,
                        max_age_hours: float | None, min_score: float | None) -> queries.ScreenerFilter:
        return queries.ScreenerFilter(platform or None, min_progress, max_progress, max_age_hours, min_score)

    def base_context() -> dict[str, Any]:
        return {"prefect_url": prefect_ui_url(), "dbt_docs": (project_root() / "target" / "index.html").exists()}

    def known_token(conn: psycopg.Connection, mint: str) -> dict[str, Any]:
        found = queries.token(conn, mint)
        if found is None:
            raise NotFound(f"No token with mint {mint} is in the database.")
        return found

    # --- pages -------------------------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def screener_page(
        request: Request,
        platform: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z0-9_]*$")] = None,
        min_progress: Annotated[float | None, Query(ge=0, le=100)] = None,
        max_progress: Annotated[float | None, Query(ge=0, le=100)] = None,
        max_age_hours: Annotated[float | None, Query(gt=0, le=24 * 365)] = None,
        min_score: Annotated[float | None, Query(ge=0, le=999)] = None,
        sort: SortName = "total_score",
        dir: Literal["asc", "desc"] = "desc",
    ) -> Response:
        with connection() as conn:
            names = queries.platforms(conn)
            built = queries.freshness(conn)
        return templates.TemplateResponse(request, "screener.html", {
            **base_context(), "platforms": names, "built": built,
            "params": {"platform": platform or "", "min_progress": min_progress, "max_progress": max_progress,
                       "max_age_hours": max_age_hours, "min_score": min_score, "sort": sort, "dir": dir},
        })

    @app.get("/token/{mint}", response_class=HTMLResponse)
    def token_page(request: Request, mint: Mint) -> Response:
        with connection() as conn:
            tok = known_token(conn, mint)
        return templates.TemplateResponse(request, "token.html", {**base_context(), "token": tok})

    @app.get("/dbt-docs/", response_class=HTMLResponse)
    @app.get("/dbt-docs/{name}")
    def dbt_docs(request: Request, name: str = "index.html") -> Response:
        if name not in DBT_DOCS_FILES:
            raise NotFound(f"The dbt docs site has no file {name}.")
        path = project_root() / "target" / name
        if not path.exists():
            raise NotFound("The dbt docs site has not been generated yet: run `megatron dbt docs generate`.")
        return FileResponse(path)

    @app.get("/favicon.ico")
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/vendor/plotly.min.js")
    def plotly_js() -> Response:
        return FileResponse(PLOTLY_JS, media_type="text/javascript")

    # --- JSON ---------------------------------------------------------------------------------------------

    def as_json(data: Any) -> JSONResponse:
        return JSONResponse(jsonable_encoder(data))

    @app.get("/api/tokens")
    def api_tokens(
        platform: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z0-9_]*$")] = None,
        min_progress: Annotated[float | None, Query(ge=0, le=100)] = None,
        max_progress: Annotated[float | None, Query(ge=0, le=100)] = None,
        max_age_hours: Annotated[float | None, Query(gt=0, le=24 * 365)] = None,
        min_score: Annotated[float | None, Query(ge=0, le=999)] = None,
        sort: SortName = "total_score",
        dir: Literal["asc", "desc"] = "desc",
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> JSONResponse:
        flt = screener_filter(platform, min_progress, max_progress, max_age_hours, min_score)
        with connection() as conn:
            rows = queries.screener(conn, flt, sort=sort, descending=dir == "desc", limit=limit)
            built = queries.freshness(conn)
            have = sorted(queries.optional_marts(conn))
        return as_json({"tokens": rows, "built": built, "score_source": (
            "marts.latest_token_scores" if "latest_token_scores" in have
            else "default: technical + holder totals of marts.top_tokens_by_usd_volume"), "marts": have})

    @app.get("/api/token/{mint}")
    def api_token(mint: Mint) -> JSONResponse:
        with connection() as conn:
            return as_json(known_token(conn, mint))

    @app.get("/api/token/{mint}/candles")
    def api_candles(mint: Mint, interval: queries.Interval = "1m", quote: queries.Quote = "sol") -> JSONResponse:
        with connection() as conn:
            tok = known_token(conn, mint)
            rows = queries.candles(conn, tok["token_id"], interval, quote)
        return as_json({"token_mint": mint, "interval": interval, "quote": quote, "candles": rows})

    @app.get("/api/token/{mint}/events")
    def api_events(mint: Mint) -> JSONResponse:
        with connection() as conn:
            known_token(conn, mint)
            return as_json({"token_mint": mint, "events": queries.events(conn, mint)})

    @app.get("/api/token/{mint}/scores")
    def api_scores(mint: Mint) -> JSONResponse:
        with connection() as conn:
            known_token(conn, mint)
            return as_json({"token_mint": mint, "scores": queries.score_history(conn, mint)})

    @app.get("/api/token/{mint}/progress")
    def api_progress(mint: Mint, interval: queries.Interval = "1m") -> JSONResponse:
        with connection() as conn:
            tok = known_token(conn, mint)
            return as_json({"token_mint": mint, "interval": interval,
                            "progress": queries.progress_history(conn, tok["token_id"], interval)})

    @app.get("/api/token/{mint}/holders")
    def api_holders(mint: Mint, limit: Annotated[int, Query(ge=1, le=500)] = 20) -> JSONResponse:
        with connection() as conn:
            tok = known_token(conn, mint)
            return as_json({"token_mint": mint, "gini": tok["gini"], "holder_count": tok["holder_count"],
                            "as_of": tok["holders_as_of"], "signals": tok["signals"],
                            "top": queries.top_holders(conn, mint, limit), "lorenz": queries.lorenz(conn, mint)})

    @app.get("/api/token/{mint}/trades")
    def api_trades(mint: Mint, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> JSONResponse:
        with connection() as conn:
            tok = known_token(conn, mint)
            return as_json({"token_mint": mint, "trades": queries.trades(conn, tok["token_id"], limit)})

    return app


def mint_is_well_formed(mint: str) -> bool:
    return re.fullmatch(MINT_PATTERN, mint) is not None
