from django.urls import path

from . import api

urlpatterns = [
    path("offers/<int:pk>/claim", api.ClaimView.as_view(), name="offer-claim"),
    path("me/vouchers", api.VoucherListView.as_view(), name="voucher-list"),
    path("me/vouchers/<str:code>", api.VoucherDetailView.as_view(), name="voucher-detail"),
    path("me/vouchers/<str:code>/qr.png", api.VoucherQrPngView.as_view(), name="voucher-qr-png"),
    path("me/vouchers/<str:code>/qr.svg", api.VoucherQrSvgView.as_view(), name="voucher-qr-svg"),
    path("me/vouchers/<str:code>/cancel", api.VoucherCancelView.as_view(), name="voucher-cancel"),
    path("voucher-keys", api.VoucherKeysView.as_view(), name="voucher-keys"),
    path("merchant/scan", api.ScanView.as_view(), name="merchant-scan"),
    path("merchant/redemptions", api.RedemptionsView.as_view(), name="merchant-redemptions"),
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
