"""Statement routes, under /api/v1/ (through incentives.urls)."""

from django.urls import path, re_path

from . import api

urlpatterns = [
    path("merchant/statements", api.MerchantStatementsView.as_view(), name="merchant-statements"),
    re_path(
        r"^merchant/statements/(?P<month>[^/.]+)(?:\.(?P<fmt>csv|pdf))?$",
        api.MerchantStatementView.as_view(),
        name="merchant-statement",
    ),
    re_path(
        r"^dashboard/statements(?:\.(?P<fmt>csv|pdf))?$",
        api.CityStatementsView.as_view(),
        name="dashboard-statements",
    ),
]
