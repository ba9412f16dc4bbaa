"""The installable, offline-capable shell of the resident app (/m/) and the scanner
(/scan/): a web app manifest and a service worker per page, each served from inside the
page's own path so that its scope covers it.

The service worker precaches the shell (the page and every script, style and icon it
loads) and answers those from the network first, from its cache when the network fails
or is slow; API calls are never touched (the pages keep what they need offline: the
resident's vouchers and credit pass, the scanner's keys and queue). Its cache name
carries a hash of the shell's files, so a deploy that changes any of them installs a new
worker and drops the old cache.
"""

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

WEB_STATIC = Path(__file__).resolve().parent.parent / "static" / "web"

# static files of each shell besides everything in incentives/static/web/
EXTRA = {
    "resident": (),
    "scanner": (
        "vendor/zxing-browser/zxing-browser.min.js",
        "vendor/noble-ed25519/index.js",
    ),
}
PAGE = {"resident": "web:resident", "scanner": "web:scanner"}


def _web_files() -> list[str]:
    return sorted(
        f"web/{p.relative_to(WEB_STATIC).as_posix()}"
        for p in WEB_STATIC.rglob("*")
        if p.is_file() and p.suffix in {".js", ".css", ".png"}
    )


@lru_cache(maxsize=4)
def _shell(app: str) -> tuple[list[str], str]:
    """The URLs to precache and a version hash of their contents (cached per process)."""
    names = [*_web_files(), *EXTRA[app]]
    digest = hashlib.sha256()
    for name in names:
        path = finders.find(name)
        digest.update(name.encode())
        if path:
            digest.update(Path(path).read_bytes())
    urls = [reverse(PAGE[app]), *(static(name) for name in names)]
    if app == "resident":
        urls.append(reverse("web:manifest"))
    return urls, digest.hexdigest()[:16]


def _service_worker(app: str) -> HttpResponse:
    urls, version = _shell(app)
    body = render_to_string(
        "web/sw.js",
        {
            "app": app,
            "version": version,
            "page": reverse(PAGE[app]),
            "shell": json.dumps(urls),
        },
    )
    return HttpResponse(
        body,
        content_type="application/javascript; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )


@require_GET
def resident_worker(request: HttpRequest) -> HttpResponse:
    return _service_worker("resident")


@require_GET
def scanner_worker(request: HttpRequest) -> HttpResponse:
    return _service_worker("scanner")


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    home = reverse("web:resident")
    data = {
        "name": _("信游 · 守信激励"),
        "short_name": _("信游"),
        "description": _("守信激励：信用好，畅游长三角。"),
        "lang": "zh-Hans",
        "id": home,
        "start_url": home,
        "scope": home,
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1a56db",
        "icons": [
            {"src": static(f"web/icons/icon-{n}.png"), "sizes": f"{n}x{n}", "type": "image/png"}
            for n in (192, 512)
        ]
        + [
            {
                "src": static("web/icons/icon-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            }
        ],
    }
    return JsonResponse(
        data,
        content_type="application/manifest+json",
        json_dumps_params={"ensure_ascii": False},
    )
