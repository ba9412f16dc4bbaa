from django.urls import path

from . import alliance_api, api
from .credit import api as credit_api
from .notices import api as notices_api

urlpatterns = [
    path("legal/agreement", api.AgreementView.as_view(), name="legal-agreement"),
    path("auth/sms-code", api.SmsCodeView.as_view(), name="auth-sms-code"),
    path("auth/sms-code/check", api.SmsCodeCheckView.as_view(), name="auth-sms-code-check"),
    path("auth/register", api.RegisterView.as_view(), name="auth-register"),
    path("auth/token", api.TokenView.as_view(), name="auth-token"),
    path("auth/token/refresh", api.TokenRefreshView.as_view(), name="auth-token-refresh"),
    path("auth/logout", api.LogoutView.as_view(), name="auth-logout"),
    path("me", api.MeView.as_view(), name="me"),
    path("me/data", api.MyDataView.as_view(), name="me-data"),
    path("me/agreement", api.AcceptAgreementView.as_view(), name="me-agreement"),
    path("cities", api.CityListView.as_view(), name="cities"),
    path("alliances", alliance_api.AllianceListView.as_view(), name="alliances"),
    path("credit/consent-text", credit_api.ConsentTextView.as_view(), name="credit-consent-text"),
    path("me/credit/consent", credit_api.ConsentView.as_view(), name="credit-consent"),
    path("me/credit/verify", credit_api.VerifyView.as_view(), name="credit-verify"),
    path("me/credit", credit_api.StandingView.as_view(), name="credit-standing"),
    path("me/notices", notices_api.NoticeListView.as_view(), name="notices"),
    path("me/notices/read", notices_api.MarkReadView.as_view(), name="notices-read"),
    path("me/notice-settings", notices_api.NoticeSettingsView.as_view(), name="notice-settings"),
]
