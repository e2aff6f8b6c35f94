"""The machine-facing endpoints for operating the service: ``/healthz`` (alive), ``/readyz``
(ready, see ``bot.readiness``) and ``/metrics`` (Prometheus, see ``bot.metrics``).

``/metrics`` is off unless ``web.metrics: true``; then it asks for ``Authorization: Bearer
<INNGANG_METRICS_TOKEN>`` (the settings refuse ``web.metrics`` without the token), and a
reverse proxy should not pass it on from the internet at all (deploy/nginx).
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.app import App
from bot.channels.delivery import SupervisedLoop
from bot.metrics import CONTENT_TYPE
from bot.readiness import ReadinessCheck
from bot.store.operating import operating_figures, ping

NO_STORE = {"Cache-Control": "no-store"}


def _loops(request: Request) -> dict[str, SupervisedLoop]:
    """The supervised loops ``serve`` started (none in a bare web app)."""
    loops: dict[str, SupervisedLoop] = getattr(request.app.state, "loops", {})
    return loops


def readiness_check(app: App) -> ReadinessCheck:
    """The readiness check over this app's database and NLU server."""

    async def nlu_up() -> bool:
        if app.rasa is None or not app.understander.rasa_available:
            return False
        return await app.rasa.healthy()

    return ReadinessCheck(lambda: ping(app.store.sessions), nlu_up)


def bearer_matches(request: Request, token: str) -> bool:
    """Whether the request carries ``Authorization: Bearer <token>`` (in constant time)."""
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


def ops_routes(app: App, readiness: ReadinessCheck) -> list[Route]:
    """The routes: /healthz and /readyz always, /metrics when enabled."""

    async def alive(request: Request) -> Response:
        """200 whenever the process serves requests; nothing is checked."""
        return JSONResponse({"alive": True}, headers=NO_STORE)

    async def ready(request: Request) -> Response:
        """200 when ready (possibly degraded: without the NLU server), else 503."""
        result = await readiness.check(_loops(request))
        return JSONResponse(
            result.as_json(), status_code=200 if result.ready else 503, headers=NO_STORE
        )

    routes = [Route("/healthz", alive), Route("/readyz", ready)]
    settings = app.settings
    token = settings.metrics_token
    if not settings.web.metrics or not token:
        return routes
    queue = settings.queue

    async def metrics(request: Request) -> Response:
        """Prometheus' text format; the gauges are read from the store now."""
        if not bearer_matches(request, token):
            return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
        figures = await app.store.run(
            operating_figures,
            app.store.sessions,
            app.router.clock(),
            timedelta(minutes=queue.target_minutes),
            timedelta(minutes=queue.urgent_target_minutes),
        )
        app.metrics.observe_figures(figures)
        app.metrics.observe_health(
            app.understander.rasa_available,
            {name: bool(loop.health()["ok"]) for name, loop in _loops(request).items()},
        )
        return Response(
            app.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE, **NO_STORE}
        )

    return [*routes, Route("/metrics", metrics)]
