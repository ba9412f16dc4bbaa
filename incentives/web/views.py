"""The two shell pages. Each carries Django's JavaScript catalogue (djangojs domain) of
both languages, so that the switch is instant and works offline, the messages of the
error-code registry, and a small config; the scripts do the rest through the API."""

import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.i18n import JSONCatalog

from core.errors import CODES

LANGS = [code for code, _name in settings.LANGUAGES]


def js_catalog(lang: str) -> dict:
    """Django's JavaScript catalogue of `lang` (`catalog`: msgid → translation; a
    `context\\x04msgid` key for pgettext, a list of forms for ngettext; `plural`).
    Not cached: about 2 ms a page, and a recompiled catalogue shows at once."""
    request = HttpRequest()
    request.method = "GET"
    with translation.override(lang):
        response = JSONCatalog.as_view(packages=["incentives"])(request)
    assert isinstance(response, HttpResponse)  # a JsonResponse, never streamed
    data = json.loads(response.content)
    return {"catalog": data["catalog"], "plural": data["plural"]}


def error_messages(lang: str) -> dict[str, str]:
    """The message of every code of the registry in `lang` (the front end's default wording
    for an API error; strings.js words a few differently for its screens)."""
    with translation.override(lang):
        return {code: str(declared.message) for code, declared in sorted(CODES.items())}


def _page(request: HttpRequest, template: str, extra: dict):
    config = {
        "api": "/api/v1",
        "langs": LANGS,
        "defaultLang": settings.LANGUAGE_CODE,
        "timeZone": settings.TIME_ZONE,
        "catalogs": {lang: js_catalog(lang) for lang in LANGS},
        "errors": {lang: error_messages(lang) for lang in LANGS},
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
        {"home": reverse("web:resident"), "serviceWorker": reverse("web:resident-worker")},
    )


@require_GET
@never_cache
def scanner_app(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        "web/scanner.html",
        {
            "home": reverse("web:scanner"),
            "serviceWorker": reverse("web:scanner-worker"),
            "zxing": static("vendor/zxing-browser/zxing-browser.min.js"),
            "noble": static("vendor/noble-ed25519/index.js"),
        },
    )
