from django.urls import path

from . import api

urlpatterns = [
    path("auth/register", api.RegisterView.as_view(), name="auth-register"),
    path("auth/token", api.TokenView.as_view(), name="auth-token"),
    path("auth/token/refresh", api.TokenRefreshView.as_view(), name="auth-token-refresh"),
    path("me", api.MeView.as_view(), name="me"),
    path("cities", api.CityListView.as_view(), name="cities"),
]
