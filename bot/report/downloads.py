"""One-time download links for report files a chat cannot carry (issue 17).

The Zalo Bot Platform has no method to send a file (zalo-api.md 1.2: text, a photo by URL,
stickers), and the Zalo OA file upload takes PDF, DOC and DOCX only (2.3), so the XLSX cannot go
there either. Such a file is offered as a link instead: `offer` moves a copy into a folder named by
a random token and returns `<origin of [posters] web_url>/tai-bao-cao/<token>`; the bot's web
server (`add_download_route`) serves it once, then deletes it. A link older than
`LINK_LIFETIME` answers 410 like a used one. The files hold aggregates only (no personal data);
the token is never logged (the web server keeps no access log).
"""

from __future__ import annotations

import re
import secrets
import shutil
import time
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

ROUTE = "/tai-bao-cao/{token}"
LINK_LIFETIME_SECONDS = 24 * 3600
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
CONTENT_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
GONE_PAGE = ("Liên kết tải báo cáo này đã được dùng hoặc đã hết hạn. "
             "Gõ lại /baocao trong khung chat để nhận liên kết mới.")


def links_folder(root: Path) -> Path:
    return root / "links"


def download_origin(web_url: str) -> str | None:
    """`https://host[:port]` of the station's public web address, or None when not set."""
    parts = urlsplit(web_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def offer(file: Path, root: Path, web_url: str) -> str | None:
    """A one-time link to a copy of `file`, or None when the station has no public web address."""
    origin = download_origin(web_url)
    if origin is None:
        return None
    token = secrets.token_urlsafe(32)
    folder = links_folder(root) / token
    folder.mkdir(parents=True)
    shutil.copyfile(file, folder / file.name)
    return f"{origin}{ROUTE.format(token=token)}"


def take(root: Path, token: str, now: float | None = None) -> tuple[str, bytes] | None:
    """The file behind `token` (name, bytes), removed so the link works once; None if gone."""
    if not TOKEN_PATTERN.match(token):
        return None
    folder = links_folder(root) / token
    files = sorted(folder.glob("*")) if folder.is_dir() else []
    if not files:
        return None
    fresh = (now if now is not None else time.time()) - folder.stat().st_mtime
    content = files[0].read_bytes() if fresh <= LINK_LIFETIME_SECONDS else None
    shutil.rmtree(folder, ignore_errors=True)
    return (files[0].name, content) if content is not None else None


def add_download_route(app: web.Application, root: Path) -> None:
    async def download(request: web.Request) -> web.Response:
        found = take(root, request.match_info["token"])
        if found is None:
            return web.Response(status=410, text=GONE_PAGE, content_type="text/plain",
                                charset="utf-8", headers={"Cache-Control": "no-store"})
        name, content = found
        return web.Response(body=content, headers={
            "Content-Type": CONTENT_TYPES.get(Path(name).suffix, "application/octet-stream"),
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store"})

    app.router.add_get(ROUTE, download)
