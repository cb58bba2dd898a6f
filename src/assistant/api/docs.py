"""The API's documentation at `/docs` (Swagger UI over `/openapi.json`), served from
files installed with the package (fastapi-offline's copy of Swagger UI), never a CDN:
the page works on a machine with no network and tells no third party about it. Both
need a login like the rest of the API."""

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from .access import member

ASSETS = Path(fastapi_offline.__file__).parent / "static"
docs = APIRouter(include_in_schema=False, dependencies=[Depends(member)])


@docs.get("/openapi.json")
def openapi(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@docs.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title=f"{request.app.title} · API",
        swagger_js_url="/docs/assets/swagger-ui-bundle.js",
        swagger_css_url="/docs/assets/swagger-ui.css",
        swagger_favicon_url="/docs/assets/favicon.png",
    )


def add_docs(app: FastAPI) -> None:
    """The documentation routes and their local assets (the app is made with docs_url,
    redoc_url and openapi_url None, so FastAPI adds no page of its own)."""
    app.include_router(docs)
    app.mount("/docs/assets", StaticFiles(directory=ASSETS), name="docs-assets")
