from django.urls import path

from . import api
from .passes import api as pass_api

urlpatterns = [
    path("offers", api.OfferListView.as_view(), name="offer-list"),
    path("offers/<int:pk>", api.OfferDetailView.as_view(), name="offer-detail"),
    path("offers/<int:pk>/claim", api.ClaimView.as_view(), name="offer-claim"),
    path("me/vouchers", api.VoucherListView.as_view(), name="voucher-list"),
    path("me/vouchers/<str:code>", api.VoucherDetailView.as_view(), name="voucher-detail"),
    path("me/vouchers/<str:code>/qr.png", api.VoucherQrPngView.as_view(), name="voucher-qr-png"),
    path("me/vouchers/<str:code>/qr.svg", api.VoucherQrSvgView.as_view(), name="voucher-qr-svg"),
    path("me/vouchers/<str:code>/cancel", api.VoucherCancelView.as_view(), name="voucher-cancel"),
    path("voucher-keys", api.VoucherKeysView.as_view(), name="voucher-keys"),
    path("merchant/scan", api.ScanView.as_view(), name="merchant-scan"),
    path("merchant/redemptions", api.RedemptionsView.as_view(), name="merchant-redemptions"),
    # the credit pass, entitlements at the counter, incidents and objections
    path("me/credit/pass", pass_api.CreditPassView.as_view(), name="credit-pass"),
    path(
        "me/credit/pass/qr.png", pass_api.CreditPassQrPngView.as_view(), name="credit-pass-qr-png"
    ),
    path(
        "me/credit/pass/qr.svg", pass_api.CreditPassQrSvgView.as_view(), name="credit-pass-qr-svg"
    ),
    path("me/entitlement-uses", pass_api.ResidentUsesView.as_view(), name="entitlement-uses"),
    path("me/incidents", pass_api.ResidentIncidentsView.as_view(), name="incident-list"),
    path(
        "me/incidents/<int:pk>/objection",
        pass_api.ObjectionView.as_view(),
        name="incident-objection",
    ),
    path("merchant/pass-checks", pass_api.PassChecksView.as_view(), name="merchant-pass-checks"),
    path("merchant/offers", pass_api.MerchantOffersView.as_view(), name="merchant-offers"),
    path("merchant/incidents", pass_api.MerchantIncidentsView.as_view(), name="merchant-incidents"),
    path("merchant/scanner", api.ScannerSetupView.as_view(), name="merchant-scanner"),
    path(
        "merchant/redemptions/batch",
        api.RedemptionBatchView.as_view(),
        name="merchant-redemptions-batch",
    ),
    path(
        "merchant/redemptions/offline",
        api.OfflineRedemptionsView.as_view(),
        name="merchant-redemptions-offline",
    ),
]
