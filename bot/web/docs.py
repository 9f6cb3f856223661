"""The API documentation at ``/docs``, served entirely by this app.

FastAPI's default page loads Swagger UI from a CDN: blank without internet access, and a third party's
script running next to the API. Here the files come from the ``swagger-ui-bundle-v2`` package
(Swagger UI's own dist files) and are served under ``/docs/assets/``; the page's one inline script
carries the request's CSP nonce. ReDoc is not offered (``redoc_url=None`` in the app factory).
Console, admin and login routes are not in the public schema (``include_in_schema=False``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from bot.web.headers import csp_nonce

__all__ = ["ASSETS", "ASSETS_PATH", "router"]

router = APIRouter(include_in_schema=False)

ASSETS_PATH = "/docs/assets"
ASSETS = {  # the only files served, so no request can name another file of the package
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}


def _asset_folder() -> Path:
    import swagger_ui_bundle  # imported on first use: no work at import time

    return Path(str(swagger_ui_bundle.swagger_ui_path))


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    page = get_swagger_ui_html(
        openapi_url=request.app.openapi_url or "/openapi.json",
        title=f"{request.app.title} API",
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from swagger.io
    )
    html = bytes(page.body).decode().replace("<script>", f'<script nonce="{csp_nonce(request)}">')
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@router.get(f"{ASSETS_PATH}/{{name}}")
async def swagger_asset(name: str) -> FileResponse:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise HTTPException(404, "no such file")
    return FileResponse(
        _asset_folder() / name, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"}
    )
