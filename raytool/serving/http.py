"""The router's HTTP hardening: a body size limit, bearer-token auth, and clean JSON errors for every failure.

    app = FastAPI(); harden(app, max_body_bytes=1_000_000)   # before `@serve.ingress(app)`: Serve copies the app

Every error body is {"error": code, "detail": ...}. Request validation errors do not echo the input back (FastAPI's
default does, which would return a 10 MB body, and fails with a 500 on invalid UTF-8); malformed JSON is a 400,
a schema violation a 422, an oversized body a 413 (checked on Content-Length and on the streamed bytes); a server
failure is still a JSON 500 naming only the exception's type. Every response carries an `X-Request-ID` header: the
client's own when it sent a usable one (up to 128 letters, digits and `._:-`), else a new one; `/v1/solve` answers
repeat it as `request_id`.
"""

from __future__ import annotations

import hmac
import os
import re
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class ApiError(Exception):
    """An error with its HTTP status, raised by the router's handlers."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def error(status: int, code: str, detail, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=headers)


REQUEST_ID = re.compile(r"[\w.:-]{1,128}")


class RequestId:
    """Pure ASGI middleware: the request's id in `scope["state"]["request_id"]` (`request.state.request_id`) and in
    every response's `X-Request-ID` header (module docstring). Inside a Serve replica, Serve's HTTP proxy has done
    the same already (it keeps the client's id or makes one, and puts it on the response): its id is used as it is,
    and no second header is added."""

    def __init__(self, app) -> None:
        self.app = app
        self._under_serve: bool | None = None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._under_serve is None:
            self._under_serve = _in_serve_replica()
        given = dict(scope.get("headers") or ()).get(b"x-request-id", b"").decode("latin-1")
        if self._under_serve and given:
            scope.setdefault("state", {})["request_id"] = given
            await self.app(scope, receive, send)
            return
        request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        await self.app(scope, receive, send_with_id)


def _in_serve_replica() -> bool:
    try:
        from ray import serve

        serve.get_replica_context()
    except Exception:  # not in a replica (RayServeException), or Ray not installed
        return False
    return True


class BodyLimit:
    """Pure ASGI middleware: 413 for a body over `limit` bytes (declared or streamed), 400 for a bad length."""

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                return await error(400, "bad_request", "Content-Length is not a number")(scope, receive, send)
            if int(declared) > self.limit:
                return await error(413, "payload_too_large", f"body over {self.limit} bytes")(scope, receive, send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise StarletteHTTPException(413, f"body over {self.limit} bytes")
            return message

        return await self.app(scope, limited, send)


class BearerAuth:
    """Pure ASGI middleware: when `$RAYTOOL_SERVE_TOKEN` is set (by the router replica that serves this app, in its
    own process: Serve unpickles the app with copies of module state, an environment variable is process-wide),
    every path but the health checks needs `Authorization: Bearer <token>`, checked before the body is read."""

    OPEN = ("/healthz", "/-/healthz", "/-/routes")

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        token = os.environ.get(TOKEN_ENV)
        if scope["type"] != "http" or not token or scope.get("path", "") in self.OPEN:
            return await self.app(scope, receive, send)
        given = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        if not given.startswith("Bearer ") or not hmac.compare_digest(given[7:].encode(), token.encode()):
            reply = error(401, "unauthorized", "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})
            return await reply(scope, receive, send)
        return await self.app(scope, receive, send)


TOKEN_ENV = "RAYTOOL_SERVE_TOKEN"


def check_token(request: Request, token: str | None) -> None:
    """Bearer auth when a token is configured (constant-time compare); ApiError 401 otherwise."""
    if not token:
        return
    given = request.headers.get("authorization", "")
    if not given.startswith("Bearer ") or not hmac.compare_digest(given[7:].encode(), token.encode()):
        raise ApiError(401, "unauthorized", "missing or wrong bearer token")


def harden(app: FastAPI, max_body_bytes: int) -> FastAPI:
    """Install the body limit, bearer auth and the JSON error handlers on `app` (module docstring)."""
    app.add_middleware(BodyLimit, limit=max_body_bytes)
    app.add_middleware(BearerAuth)  # runs before the body limit: no body is read for an unauthorised request
    app.add_middleware(RequestId)  # added last = runs first: every answer has its id, a 401 or a 413 too

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()][:20]  # fmt: skip
        if any(e["type"] == "json_invalid" for e in errors):
            return error(400, "invalid_json", errors)
        return error(422, "invalid_request", errors)

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return error(exc.status, exc.code, exc.detail, headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
        return error(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))

    @app.exception_handler(Exception)  # anything else: still a JSON body, naming only the exception's type
    async def _internal(request: Request, exc: Exception):  # answered outside the middleware: the id set by hand
        request_id = getattr(request.state, "request_id", None)
        headers = {"X-Request-ID": request_id} if request_id and not _in_serve_replica() else None
        return error(500, "internal_error", f"the server failed on this request ({type(exc).__name__})", headers)

    @app.exception_handler(UnicodeDecodeError)
    async def _utf8(request: Request, exc: UnicodeDecodeError):
        return error(400, "invalid_utf8", "the body is not valid UTF-8")

    return app
