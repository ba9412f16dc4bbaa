from django.urls import path

from . import api

# The offers endpoints are served by incentives (they add the resident's eligibility).
urlpatterns = [
    path("stations", api.StationListView.as_view(), name="station-list"),
]
