"""/open311/v2/: the GeoReport v2 endpoints, each as .json or .xml by extension."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, current_app, request, url_for
from werkzeug.exceptions import HTTPException

from cases.api_keys import find_api_key
from open311 import service as api
from open311.changeset import changeset, content_hash, iso_z
from open311.formats import to_json, to_xml

bp = Blueprint("open311", __name__, url_prefix="/open311")
FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}


def _runtime():  # type: ignore[no-untyped-def]
    return current_app.extensions["civicline"]


def render(kind: str, data: Any, fmt: str, status: int = 200) -> Response:
    """The document in the requested format."""
    body = to_xml(kind, data) if fmt == "xml" else to_json(data)
    return Response(body, status=status, content_type=FORMATS.get(fmt, FORMATS["json"]))


def error(exc: api.Open311Error, fmt: str = "json") -> Response:
    """The spec's error array with its HTTP status."""
    return render("errors", exc.body(), fmt, exc.status)


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise api.Open311Error(404, f"format {fmt!r} is not supported; use .json or .xml")
    return fmt


class PublicCache:
    """Rendered public documents for a few seconds, per process: a crowd of anonymous readers
    costs one query per interval instead of one per request."""

    def __init__(self, max_entries: int = 256):
        self.entries: dict[str, tuple[float, bytes, str]] = {}
        self.max_entries = max_entries

    def get(self, key: str, ttl: float) -> Response | None:
        found = self.entries.get(key)
        if found is None or time.monotonic() - found[0] > ttl:
            return None
        return Response(found[1], status=200, content_type=found[2])

    def put(self, key: str, response: Response) -> None:
        if len(self.entries) >= self.max_entries:
            self.entries.clear()
        self.entries[key] = (time.monotonic(), response.get_data(), response.content_type)


def _languages() -> tuple[str, ...]:
    """The locales the catalogue is written in (English first)."""
    return tuple(_runtime().bot.wording.languages)


def _cached(view_name: str, fmt: str, kwargs: dict[str, Any]) -> tuple[str, Response | None]:
    """The cache key and a fresh hit; the key leads with the locale so languages never mix."""
    ttl = _runtime().settings.public_cache_seconds
    try:
        lang = api.locale(request.args, _languages())
    except api.Open311Error:
        lang = "?"  # refused in the view; error answers are never cached
    args = sorted(request.args.items(multi=True))
    key = f"{lang}|{view_name}|{fmt}|{sorted(kwargs.items())}|{args}"
    cache = current_app.extensions.setdefault("civicline.public_cache", PublicCache())
    return key, cache.get(key, ttl) if ttl > 0 else None


def endpoint(
    kind: str, *, cache: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """Wrap a view: check format and jurisdiction, render its result or its Open311Error."""

    def wrap(view: Callable[..., Any]) -> Callable[..., Response]:
        @wraps(view)
        def inner(fmt: str, **kwargs: Any) -> Response:
            shown = fmt if fmt in FORMATS else "json"
            if cache:
                key, hit = _cached(view.__name__, fmt, kwargs)
                if hit is not None:
                    return hit
            response = _respond(view, kind, fmt, shown, kwargs)
            if cache and response.status_code == 200:
                current_app.extensions["civicline.public_cache"].put(key, response)
            return response

        return inner

    return wrap


def _respond(
    view: Callable[..., Any], kind: str, fmt: str, shown: str, kwargs: dict[str, Any]
) -> Response:
    """Run the view, rendering its result or its Open311Error."""
    try:
        _format(fmt)
        # NUL bytes are never meaningful and PostgreSQL refuses them in text
        args = {k: v.replace("\x00", "") for k, v in request.values.items()}
        api.check_jurisdiction(args, _runtime().settings.jurisdiction_id)
        data, status = view(args, **kwargs)
    except api.Open311Error as exc:
        return error(exc, shown)
    return render(kind, data, fmt, status)


@bp.get("/v2/services.<fmt>")
@endpoint("services", cache=True)
def services(args: dict[str, str]) -> tuple[Any, int]:
    """The service list (in the `locale` extension's language)."""
    catalog = _runtime().catalog.localized(api.locale(args, _languages()))
    return api.service_list(catalog), 200


@bp.get("/v2/services/<code>.<fmt>")
@endpoint("definition")
def service_definition(args: dict[str, str], code: str) -> tuple[Any, int]:
    """One service's definition (its follow-up questions as attributes, in `locale`)."""
    catalog = _runtime().catalog.localized(api.locale(args, _languages()))
    return api.service_definition(api.find_service(catalog, code)), 200


@bp.post("/v2/requests.<fmt>")
@endpoint("requests")
def create(args: dict[str, str]) -> tuple[Any, int]:
    """File a service request (needs an api_key)."""
    runtime = _runtime()
    if "api_key" in request.args:  # URLs end up in logs, histories and referrers
        raise api.Open311Error(400, "send api_key in the form body, not in the URL")
    key = args.get("api_key", "").strip()
    with runtime.Session() as db_session, db_session.begin():
        api_key = find_api_key(db_session=db_session, key=key) if key else None
        if api_key is None:
            raise api.Open311Error(403, "a valid api_key is required to file requests")
        language = api.locale(args, _languages())  # the reporter's: their status texts
        created = api.create_request(
            db_session=db_session,
            form=args,
            api_key=api_key,
            catalog=runtime.catalog,
            streets=runtime.streets,
            language=language,
            wording=runtime.bot.wording,
        )
    return [created], 201


@bp.get("/v2/requests.<fmt>")
@endpoint("requests", cache=True)
def search(args: dict[str, str]) -> tuple[Any, int]:
    """Search service requests."""
    runtime = _runtime()
    with runtime.Session() as db_session:
        return api.search_requests(
            db_session=db_session,
            args=args,
            catalog=runtime.catalog,
            base_url=runtime.settings.public_url,
        ), 200


@bp.get("/v2/requests/<request_id>.<fmt>")
@endpoint("requests")
def one(args: dict[str, str], request_id: str) -> tuple[Any, int]:
    """One service request (a one-element list, as the spec has it)."""
    runtime = _runtime()
    with runtime.Session() as db_session:
        return api.get_request(
            db_session=db_session,
            service_request_id=request_id,
            catalog=runtime.catalog,
            extensions=args.get("extensions", "").strip().lower() == "true",
            base_url=runtime.settings.public_url,
        ), 200


DISCOVERY_FORMATS = {"json": "application/json; charset=utf-8", "xml": "application/xml"}


def _changeset() -> str:
    """The catalogue's changeset (open311/changeset.py), looked up once per process."""
    found = current_app.extensions.get("civicline.changeset")
    if found is None:
        runtime = _runtime()
        digest = content_hash(runtime.settings.data_dir)
        with runtime.Session() as db_session:
            found = iso_z(changeset(db_session=db_session, digest=digest))
        current_app.extensions["civicline.changeset"] = found
    return found


@bp.get("/discovery.<fmt>")
def discovery(fmt: str) -> Response:
    """The discovery document: where the GeoReport v2 endpoint is (XML, the spec's required
    format, or JSON; any other extension is a 404)."""
    if fmt not in DISCOVERY_FORMATS:
        return error(api.Open311Error(404, f"format {fmt!r} is not supported; use .xml or .json"))
    settings = _runtime().settings
    stamp = _changeset()
    doc = {
        "changeset": stamp,
        "contact": f"{settings.city_name} 311, {settings.city_phone}",
        "key_service": "API keys are issued by the city's 311 administrators.",
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": settings.public_url
                + url_for("open311.services", fmt="json")[: -len("/services.json")],
                "changeset": stamp,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    body = to_xml("discovery", doc) if fmt == "xml" else to_json(doc)
    return Response(body, content_type=DISCOVERY_FORMATS[fmt])


def handle_http_error(exc: HTTPException) -> Response:
    """Unknown paths, wrong methods and server errors under /open311 as Open311 errors."""
    status = exc.code or 500
    fmt = "xml" if request.path.endswith(".xml") else "json"
    description = {404: "not found", 405: "method not allowed"}.get(status, exc.description)
    return error(api.Open311Error(status, str(description)), fmt)


def handle_unexpected(exc: Exception) -> Response:
    """A bug must still answer in Open311's shape (logged), never an HTML page."""
    current_app.logger.exception("open311 failure", exc_info=exc)
    fmt = "xml" if request.path.endswith(".xml") else "json"
    return error(api.Open311Error(500, "internal error"), fmt)


def init_app(app: Any) -> None:
    """Register the blueprint, its CLI and Open311-shaped error pages for /open311 paths."""
    from open311.cli import open311_cli

    app.register_blueprint(bp)
    app.cli.add_command(open311_cli)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        return handle_http_error(exc) if request.path.startswith("/open311") else exc

    @app.errorhandler(Exception)
    def _bug(exc: Exception) -> Any:
        if request.path.startswith("/open311"):
            return handle_unexpected(exc)
        raise exc
