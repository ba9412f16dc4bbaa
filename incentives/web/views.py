"""The two shell pages. Each carries its UI strings in both languages (the switch is
instant, client side) and a small config; the scripts do the rest through the API."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .strings import RESIDENT, SCANNER, SHARED, catalog

LANGS = [code for code, _name in settings.LANGUAGES]


def _page(request: HttpRequest, template: str, groups: tuple[dict, ...], extra: dict):
    config = {
        "api": "/api/v1",
        "langs": LANGS,
        "defaultLang": settings.LANGUAGE_CODE,
        "timeZone": settings.TIME_ZONE,
        "strings": {lang: catalog(lang, *groups) for lang in LANGS},
        **extra,
    }
    response = render(request, template, {"config": config})
    response["Permissions-Policy"] = "camera=(self), microphone=(), geolocation=()"
    return response


@require_GET
@never_cache
def resident_app(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        "web/resident.html",
        (SHARED, RESIDENT),
        {"home": reverse("web:resident"), "serviceWorker": reverse("web:resident-worker")},
    )


@require_GET
@never_cache
def scanner_app(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        "web/scanner.html",
        (SHARED, SCANNER),
        {
            "home": reverse("web:scanner"),
            "serviceWorker": reverse("web:scanner-worker"),
            "zxing": static("vendor/zxing-browser/zxing-browser.min.js"),
            "noble": static("vendor/noble-ed25519/index.js"),
        },
    )
