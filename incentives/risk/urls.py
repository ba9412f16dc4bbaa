from django.urls import path

from . import api

urlpatterns = [
    path("dashboard/risk-signals", api.RiskSignalsView.as_view(), name="risk-signals"),
    path(
        "dashboard/risk-signals/<int:pk>/state",
        api.RiskSignalStateView.as_view(),
        name="risk-signal-state",
    ),
]
