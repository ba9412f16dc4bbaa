from django.urls import path

from . import api

urlpatterns = [
    path("auth/register", api.RegisterView.as_view(), name="auth-register"),
    path("auth/token", api.TokenView.as_view(), name="auth-token"),
    path("auth/token/refresh", api.TokenRefreshView.as_view(), name="auth-token-refresh"),
    path("me", api.MeView.as_view(), name="me"),
    path("cities", api.CityListView.as_view(), name="cities"),
]

from .credit import api as credit_api  # noqa: E402

urlpatterns += [
    path("credit/consent-text", credit_api.ConsentTextView.as_view(), name="credit-consent-text"),
    path("me/credit/consent", credit_api.ConsentView.as_view(), name="credit-consent"),
    path("me/credit/verify", credit_api.VerifyView.as_view(), name="credit-verify"),
    path("me/credit", credit_api.StandingView.as_view(), name="credit-standing"),
]
