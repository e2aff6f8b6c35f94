"""The machine-facing endpoints for operating the service: ``/healthz`` (alive) and
``/readyz`` (ready, see ``bot.readiness``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.app import App
from bot.channels.delivery import SupervisedLoop
from bot.readiness import ReadinessCheck
from bot.store.operating import ping

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


def ops_routes(app: App, readiness: ReadinessCheck) -> list[Route]:
    """The routes: /healthz and /readyz."""

    async def alive(request: Request) -> Response:
        """200 whenever the process serves requests; nothing is checked."""
        return JSONResponse({"alive": True}, headers=NO_STORE)

    async def ready(request: Request) -> Response:
        """200 when ready (possibly degraded: without the NLU server), else 503."""
        result = await readiness.check(_loops(request))
        return JSONResponse(
            result.as_json(), status_code=200 if result.ready else 503, headers=NO_STORE
        )

    return [Route("/healthz", alive), Route("/readyz", ready)]
