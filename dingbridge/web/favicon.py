"""``/favicon.ico``: dingbridge's own small icon (browsers ask for it on every page)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from starlette.responses import Response

ICON = Path(__file__).parent / "static" / "favicon.ico"
router = APIRouter(include_in_schema=False)


@router.get("/favicon.ico")
async def favicon() -> Response:
    return Response(
        ICON.read_bytes(),
        media_type="image/vnd.microsoft.icon",
        headers={"Cache-Control": "public, max-age=86400"},
    )
