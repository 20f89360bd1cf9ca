"""The dashboard's FastAPI app: one use case (``/uc/<slug>/…``) or every use case under a folder (``/``).

Pages are rendered on the server from Jinja2 templates; the charts are drawn in the browser by
Plotly's JavaScript, served from the ``plotly`` package installed with mlcycle — nothing is
fetched from another host. Every chart has a table beside it that says the same.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jinja2
from fastapi import FastAPI, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware

from mlcycle import funding
from mlcycle._version import __version__
from mlcycle.exceptions import MlcycleError, RequestRejected, UseCaseError
from mlcycle.report import html
from mlcycle.ui import access, pages
from mlcycle.ui.access import CSRF_COOKIE, KEY_COOKIE, ROLE_COOKIE, ROLES
from mlcycle.ui.jobs import Jobs
from mlcycle.ui.leaderboard import GATES, PAGE_SIZES, STATES, Query

HERE = Path(__file__).parent
ACTIONS = ("retrain", "rollback", "retire", "promote")
MAX_COMPARE = 10


def plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _templates() -> jinja2.Environment:
    env = html.environment(html=True, templates="ui/templates")
    env.filters.update(tojson_attr=_json_attr)
    env.globals.update(roles=ROLES, version=__version__)
    return env


def _json_attr(value: Any) -> str:
    import json

    return json.dumps(value, default=str, allow_nan=False)


class Dashboard:
    """The sites (use cases) served and what pages share: templates, jobs."""

    def __init__(self, sites: list[pages.Site], *, portfolio: bool) -> None:
        if not sites:
            raise UseCaseError("no use case to show: the folder holds no mlcycle.yaml (run `mlcycle init DIR` first)")
        self.sites = {s.slug: s for s in sites}
        self.portfolio = portfolio
        self.env = _templates()
        self.jobs = Jobs()

    def site(self, slug: str) -> pages.Site:
        if slug not in self.sites:
            raise RequestRejected(404, f"no use case {slug!r} here; known: {', '.join(self.sites)}")
        return self.sites[slug]

    def render(self, request: Request, template: str, code: int = 200, **context: Any) -> HTMLResponse:
        role = access.role_of(request)
        context.setdefault("site", None)
        context.setdefault("base", base_of(request))
        context.setdefault("page", None)
        text = self.env.get_template(template).render(
            request=request,
            role=role,
            csrf=access.csrf_token(request),
            portfolio=self.portfolio,
            **context,
        )
        response = HTMLResponse(text, status_code=code)
        if request.query_params.get("role") in ROLES:
            response.set_cookie(ROLE_COOKIE, role, max_age=365 * 86400, samesite="strict")
        return response


def create_app(folder: str | Path | None = None, *, root: str | Path | None = None) -> FastAPI:
    """The dashboard over the use case in ``folder``, or over every use case under ``root``."""
    if (folder is None) == (root is None):
        raise UseCaseError("give the dashboard one use case (--use-case DIR) or a folder of them (--root DIR)")
    if root is not None:
        sites = pages.find_sites(Path(root))
    else:
        one = Path(folder)  # type: ignore[arg-type]
        mlcycle_uc = pages.UseCase.load(one)  # a bad design fails here, with its own message
        sites = [pages.Site(mlcycle_uc.folder.name, mlcycle_uc.folder)]
    board = Dashboard(sites, portfolio=root is not None)
    app = FastAPI(title="mlcycle dashboard", version=__version__, docs_url=None, redoc_url=None)
    app.state.dashboard = board
    app.add_middleware(GZipMiddleware, minimum_size=2048)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.middleware("http")
    async def forgery_cookie(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request.state.new_csrf = None if request.cookies.get(CSRF_COOKIE) else secrets.token_urlsafe(24)
        response = await call_next(request)
        if request.state.new_csrf:
            response.set_cookie(CSRF_COOKIE, request.state.new_csrf, httponly=True, samesite="strict")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self' 'unsafe-eval'; frame-ancestors 'none'",
        )
        return response

    @app.exception_handler(RequestRejected)
    async def rejected(request: Request, error: RequestRejected) -> Response:
        if request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"detail": str(error)}, status_code=error.status)
        if error.status == 401:
            return board.render(request, "login.html.j2", 401, message=str(error), next=request.url.path)
        return board.render(request, "error.html.j2", error.status, message=str(error))

    @app.exception_handler(MlcycleError)
    async def refused(request: Request, error: MlcycleError) -> Response:
        return board.render(request, "error.html.j2", 409, message=str(error))

    @app.get("/static-lib/plotly.min.js", include_in_schema=False)
    def plotly_bundle() -> FileResponse:
        return FileResponse(plotly_js(), media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(HERE / "static" / "favicon.svg", media_type="image/svg+xml")

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        if not board.portfolio:
            return RedirectResponse(f"{base_of(request)}/uc/{next(iter(board.sites))}/", status_code=303)
        rows, locked = [], []
        for site in board.sites.values():
            try:
                site.access.viewer(request)
            except RequestRejected:
                locked.append({"site": site, "locked": True})
                continue
            state = site.use_case.status()  # read once: the ranking and the row both need it
            rows.append(
                {
                    "site": site,
                    "locked": False,
                    "entry": funding.entry(site.use_case, state),
                    **pages.portfolio_row(site, state),
                }
            )
        # ranked as `mlcycle portfolio` ranks them, over the use cases this visitor may see; the locked ones last
        ranked = funding.rank([r["entry"] for r in rows])
        place = {id(e): i for i, e in enumerate(ranked)}
        rows.sort(key=lambda r: place[id(r["entry"])])
        return board.render(
            request, "portfolio.html.j2", rows=[*rows, *locked], advice=funding.advice(ranked), rule=funding.RULE
        )

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "") -> Response:
        return board.render(request, "login.html.j2", message="", next=_local(next or f"{base_of(request)}/"))

    @app.post("/login")
    def login(request: Request, key: str = Form(""), next: str = Form("/"), csrf: str = Form("")) -> Response:
        access.check_form(request, csrf)
        known = any(s.store.keys.find(key.strip()) for s in board.sites.values()) if key.strip() else False
        if not known:
            return board.render(request, "login.html.j2", 401, message="unknown or revoked key", next=_local(next))
        response = RedirectResponse(_local(next), status_code=303)
        secure = request.url.scheme == "https"
        response.set_cookie(KEY_COOKIE, key.strip(), httponly=True, samesite="strict", secure=secure)
        return response

    @app.post("/logout")
    def logout(request: Request, csrf: str = Form("")) -> Response:
        access.check_form(request, csrf)
        response = RedirectResponse(f"{base_of(request)}/login", status_code=303)
        response.delete_cookie(KEY_COOKIE)
        return response

    def viewed(request: Request, slug: str) -> tuple[pages.Site, access.Viewer]:
        site = board.site(slug)
        return site, site.access.viewer(request)

    @app.get("/uc/{slug}/", response_class=HTMLResponse)
    def overview(request: Request, slug: str) -> Response:
        site, viewer = viewed(request, slug)
        return board.render(
            request, "overview.html.j2", site=site, viewer=viewer, page="overview", **pages.overview(site)
        )

    @app.get("/uc/{slug}/design", response_class=HTMLResponse)
    def design(request: Request, slug: str) -> Response:
        site, viewer = viewed(request, slug)
        card, issues = site.design_card()
        return board.render(
            request, "design.html.j2", site=site, viewer=viewer, page="design", card=card, v=card.value, issues=issues
        )

    @app.get("/uc/{slug}/experiments", response_class=HTMLResponse)
    def experiments(
        request: Request,
        slug: str,
        sort: str | None = None,
        desc: int | None = None,
        algorithm: str | None = None,
        variant: str | None = None,
        gate: str | None = None,
        state: str | None = None,
        search: str | None = None,
        page: int = 1,
        size: int = 50,
    ) -> Response:
        site, viewer = viewed(request, slug)
        default = pages.default_query(site)
        query = Query(
            sort=sort or default.sort,
            descending=bool(desc) if desc is not None else (default.descending if sort is None else False),
            algorithm=algorithm or None,
            variant=variant or None,
            gate=gate or None,
            state=None if state == "any" else (state or "complete"),  # the best trials are judged on every fold
            search=search or None,
            offset=(max(1, page) - 1) * size,
            limit=size if size in PAGE_SIZES else 50,
        )
        board_ = site.leaderboard()
        found = board_.page(query)
        algorithms, variants = board_.choices()
        searches = {run: _search_label(i, name) for i, (run, name) in enumerate(board_.searches(), start=1)}
        d = site.use_case.spec
        return board.render(
            request,
            "experiments.html.j2",
            site=site,
            viewer=viewer,
            page="experiments",
            found=found,
            query=query,
            views={view: list(names) for view, names in d.views.items()},
            baseline=board_.baseline(),
            algorithms=algorithms,
            variants=variants,
            searches=searches,
            gates=GATES,
            states=STATES,
            sizes=PAGE_SIZES,
            link=lambda **change: _link(request, change),
        )

    @app.get("/uc/{slug}/experiments/compare", response_class=HTMLResponse)
    def compare(request: Request, slug: str, x: str | None = None, y: str | None = None) -> Response:
        site, viewer = viewed(request, slug)
        chosen = request.query_params.getlist("run")[:MAX_COMPARE]
        trials = site.leaderboard().trials(chosen)
        d = site.use_case.spec
        metrics = sorted({m for t in trials for m in t.metrics})
        params = sorted({p for t in trials for p in t.params})
        listed = [m for names in d.views.values() for m in names]
        x = x or (listed[0] if listed else None)
        y = y or d.metrics.primary
        return board.render(
            request,
            "compare.html.j2",
            site=site,
            viewer=viewer,
            page="experiments",
            trials=trials,
            metrics=metrics,
            params=params,
            listed=listed,
            x=x,
            y=y,
            too_many=len(request.query_params.getlist("run")) > MAX_COMPARE,
        )

    @app.get("/api/uc/{slug}/points")
    def points(request: Request, slug: str, x: str, y: str) -> JSONResponse:
        site, _ = viewed(request, slug)
        found = site.leaderboard().points(x, y)
        return JSONResponse(dataclasses.asdict(found))

    @app.get("/uc/{slug}/models", response_class=HTMLResponse)
    def models(request: Request, slug: str) -> Response:
        site, viewer = viewed(request, slug)
        versions = pages.models(site)
        cards = {v.version: pages.model_card(site, v) for v in versions}
        return board.render(
            request, "models.html.j2", site=site, viewer=viewer, page="models", versions=versions, cards=cards
        )

    @app.get("/uc/{slug}/monitoring", response_class=HTMLResponse)
    def monitoring(request: Request, slug: str, every: int = 0) -> Response:
        site, viewer = viewed(request, slug)
        found = pages.monitoring(site, every=bool(every))
        return board.render(request, "monitoring.html.j2", site=site, viewer=viewer, page="monitoring", **found)

    @app.get("/uc/{slug}/monitoring/drift", response_class=HTMLResponse)
    def drift(request: Request, slug: str, window: int, column: str) -> Response:
        site, viewer = viewed(request, slug)
        detail = pages.drift_detail(site, window, column)
        if detail is None:
            raise RequestRejected(404, f"no monitoring window {window} with a model version")
        return board.render(request, "drift.html.j2", site=site, viewer=viewer, page="monitoring", **detail)

    @app.get("/uc/{slug}/decisions", response_class=HTMLResponse)
    def decisions(
        request: Request,
        slug: str,
        request_id: str | None = None,
        version: str | None = None,
        source: str | None = None,
        page: int = 1,
    ) -> Response:
        site, viewer = viewed(request, slug)
        one = None
        actual = None
        if request_id:
            one = site.store.predictions.get(request_id.strip())
            if one is not None:
                actual = pages.actual_of(site.store, one.request_id, one.series_key, one.event_time)
        size = 50
        recent = site.store.predictions.recent(
            size + 1, (max(1, page) - 1) * size, model_version=version or None, source=source or None
        )
        return board.render(
            request,
            "decisions.html.j2",
            site=site,
            viewer=viewer,
            page="decisions",
            request_id=request_id,
            one=one,
            actual=actual,
            recent=recent[:size],
            more=len(recent) > size,
            number=max(1, page),
            version=version or "",
            source=source or "",
            link=lambda **change: _link(request, change),
        )

    @app.get("/uc/{slug}/review", response_class=HTMLResponse)
    def review(request: Request, slug: str, job: int | None = None) -> Response:
        site, viewer = viewed(request, slug)
        return board.render(
            request,
            "review.html.j2",
            site=site,
            viewer=viewer,
            page="review",
            reviews=list(reversed(site.store.history.reviews())),
            actions=list(reversed(site.store.history.actions(last=50))),
            job=board.jobs.get(slug, job) if job is not None else None,
            status=site.use_case.status(),
        )

    @app.post("/uc/{slug}/actions/{action}")
    def act(
        request: Request,
        slug: str,
        action: str,
        csrf: str = Form(""),
        reason: str = Form(""),
        run_id: str = Form(""),
        trials: int | None = Form(None),
    ) -> Response:
        access.check_form(request, csrf)
        site = board.site(slug)
        viewer = site.access.admin(request)
        if action not in ACTIONS:
            raise RequestRejected(404, f"no action {action!r}; the actions are {', '.join(ACTIONS)}")
        if action == "retire" and not reason.strip():
            raise RequestRejected(422, "retire needs a reason: the service shows it to every caller")
        uc = site.use_case
        detail: dict[str, Any] = {"reason": reason.strip() or None}
        if action == "promote":
            detail["run_id"] = run_id.strip() or None
        if action == "retrain":
            detail["trials"] = trials

        def work(console: Any) -> dict[str, Any]:
            if action == "rollback":
                was, now = uc.rollback()
                return {"from": was, "to": now}
            if action == "retire":
                return uc.retire(reason)
            if action == "promote":
                gate = uc.promote(run_id.strip() or None, reason=reason.strip() or None)
                return {"version": gate.version, "passed": gate.passed}
            result = uc.retrain(trials=trials, console=console)
            return {"promoted": result.promoted, "version": result.gate.version if result.gate is not None else None}

        job = board.jobs.submit(slug, site.store, viewer.actor, action, detail, work)
        return RedirectResponse(f"{base_of(request)}/uc/{slug}/review?job={job.id}", status_code=303)

    @app.get("/api/uc/{slug}/jobs/{job_id}")
    def job_state(request: Request, slug: str, job_id: int) -> JSONResponse:
        viewed(request, slug)
        job = board.jobs.get(slug, job_id)
        if job is None:
            raise RequestRejected(404, f"no action {job_id} was started by this dashboard")
        return JSONResponse(
            {"id": job.id, "action": job.action, "state": job.state, "error": job.error, "output": job.tail()},
            headers={"Cache-Control": "no-store"},
        )

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _search_label(number: int, name: str) -> str:
    """``search-20261201-223712`` → ``1 · 2026-12-01 22:37``: trial numbers restart in each search."""
    stamp = name.removeprefix("search-")
    if len(stamp) == 15 and stamp[8] == "-" and stamp.replace("-", "").isdigit():
        return f"{number} · {stamp[:4]}-{stamp[4:6]}-{stamp[6:8]} {stamp[9:11]}:{stamp[11:13]}"
    return f"{number} · {name}"


def base_of(request: Request) -> str:
    """Where the dashboard is mounted: "" on its own, "/ui" inside the prediction service."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def _local(target: str) -> str:
    """Only our own paths after sign-in (never an open redirect to another site)."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


def _link(request: Request, change: dict[str, Any]) -> str:
    params = dict(request.query_params)
    params.pop("role", None)
    for key, value in change.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    from urllib.parse import urlencode

    return f"{request.url.path}?{urlencode(params)}" if params else request.url.path
