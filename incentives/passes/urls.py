from django.urls import URLPattern, URLResolver, path

from . import api

# The pass check itself, a hot path: config/urls.py puts it ahead of every other API route.
counter: list[URLPattern | URLResolver] = [
    path("merchant/pass-checks", api.PassChecksView.as_view(), name="merchant-pass-checks"),
]

urlpatterns = [
    path("me/credit/pass", api.CreditPassView.as_view(), name="credit-pass"),
    path("me/credit/pass/qr.png", api.CreditPassQrPngView.as_view(), name="credit-pass-qr-png"),
    path("me/credit/pass/qr.svg", api.CreditPassQrSvgView.as_view(), name="credit-pass-qr-svg"),
    path("me/entitlement-uses", api.ResidentUsesView.as_view(), name="entitlement-uses"),
    path(
        "merchant/pass-checks/preview",
        api.PassPreviewView.as_view(),
        name="merchant-pass-check-preview",
    ),
]
