"""The dashboard API, under /api/v1/ (config.urls)."""

from django.urls import path

from . import api

urlpatterns = [
    path("dashboard/summary", api.SummaryView.as_view(), name="dashboard-summary"),
    path("dashboard/series", api.SeriesView.as_view(), name="dashboard-series"),
    path("dashboard/breakdown", api.BreakdownView.as_view(), name="dashboard-breakdown"),
    path("dashboard/flows", api.FlowsView.as_view(), name="dashboard-flows"),
]
