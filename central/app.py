"""The whole ASGI application: `/api/v1` (units and tools), ``/metrics`` and the management page at ``/``.

The API is its own ASGI callable (`central.api.Api`: routes, auth and validation come from the
OpenAPI document); the rest is a Starlette application.
"""

from __future__ import annotations

from anyio import to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from central.api import PREFIX, Api, Receive, Scope, Send
from central.manage import ManagementPage
from central.metrics import CONTENT_TYPE


def build_app(api: Api, page: ManagementPage):
    """The ASGI callable uvicorn serves."""

    async def metrics(request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not api.is_admin(token.strip()):
            # Prometheus sends the management token as `authorization: {credentials: ...}`.
            return PlainTextResponse("management token required\n", 401, {"WWW-Authenticate": "Bearer"})
        return Response(await to_thread.run_sync(api.metrics.render), media_type=CONTENT_TYPE)

    site = Starlette(routes=[Route("/metrics", metrics), *page.routes()])

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (scope["path"] == PREFIX or scope["path"].startswith(PREFIX + "/")):
            await api(scope, receive, send)
        else:
            await site(scope, receive, send)

    return app
