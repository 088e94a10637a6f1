"""The two chat pages, served as static HTML with a strict content security policy."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC_DIR = Path(__file__).resolve().parent.parent.parent / "static"

# Scripts and styles only from our own files: bot text that slipped into markup still
# could not run. connect-src 'self' covers fetch and the same-origin WebSocket.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/")
def customer_page() -> FileResponse:
    """The customer chat page."""
    return FileResponse(STATIC_DIR / "index.html", headers=PAGE_HEADERS)


@router.get("/rep")
def rep_page() -> FileResponse:
    """The rep chat page (sign in with a token)."""
    return FileResponse(STATIC_DIR / "rep.html", headers=PAGE_HEADERS)
