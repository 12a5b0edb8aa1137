"""The web pages: the app for people around Ebina and the operators' dashboard, served from the project's files.

Pages and assets are files in ``services/gateway/web`` (vanilla JavaScript, nothing from a CDN); the map data
is the station area's own network. Every page is sent with a content security policy that allows only this
origin, so a page cannot load anything from elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, JSONResponse, Response

from services.gateway.map_data import station_area_map

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".html": "text/html"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

router = APIRouter(tags=["web"])
PAGE = {200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "the page"}}
ASSET = {200: {"content": {t: {"schema": {"type": "string"}} for t in ("text/javascript", "text/css", "image/svg+xml")},
               "description": "a script, stylesheet or image of the pages"},
         404: {"description": "no such asset"}}
MAP = {200: {"content": {"application/geo+json": {"schema": {"type": "object"}}},
             "description": "walkways, chokepoints, stations and rail lines as GeoJSON"}}


def _page(name: str) -> FileResponse:
    return FileResponse(WEB_DIR / name, media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS)


@router.get("/app/", response_class=FileResponse, responses=PAGE)
def app_page() -> FileResponse:
    return _page("app.html")


@router.get("/dashboard/", response_class=FileResponse, responses=PAGE)
def dashboard_page() -> FileResponse:
    return _page("dashboard.html")


@router.get("/web/map.geojson", response_class=Response, responses=MAP)
def map_geojson() -> JSONResponse:
    return JSONResponse(station_area_map(), media_type="application/geo+json",
                        headers={"Cache-Control": "max-age=3600"})


@router.get("/web/{name}", response_class=FileResponse, responses=ASSET)
def asset(name: str) -> FileResponse:
    """One of the page assets (a file directly in the web folder with a known type); anything else is 404."""
    path = WEB_DIR / name
    if path.parent != WEB_DIR or path.suffix not in MEDIA_TYPES or not path.is_file() or path.suffix == ".html":
        raise HTTPException(status_code=404, detail=f"no asset {name!r}")
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=SECURITY_HEADERS)
