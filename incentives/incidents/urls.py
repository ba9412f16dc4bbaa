from django.urls import path

from . import api

urlpatterns = [
    path("me/incidents", api.ResidentIncidentsView.as_view(), name="incident-list"),
    path(
        "me/incidents/<int:pk>/objection",
        api.ObjectionView.as_view(),
        name="incident-objection",
    ),
    path("merchant/incidents", api.MerchantIncidentsView.as_view(), name="merchant-incidents"),
]
