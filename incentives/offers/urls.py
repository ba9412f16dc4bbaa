from django.urls import path

from . import api

urlpatterns = [
    path("offers", api.OfferListView.as_view(), name="offer-list"),
    path("offers/<int:pk>", api.OfferDetailView.as_view(), name="offer-detail"),
    path("merchant/offers", api.MerchantOffersView.as_view(), name="merchant-offers"),
]
