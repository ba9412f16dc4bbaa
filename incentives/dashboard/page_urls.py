"""The HTML dashboard and its CSV export, under /dashboard/ (config.urls)."""

from django.urls import path

from . import views

app_name = "dashboard"

urlpatterns = [
    path("", views.dashboard_page, name="page"),
    path("export.csv", views.export_csv, name="export"),
    path("login/", views.dashboard_login, name="login"),
    path("logout/", views.DashboardLogoutView.as_view(), name="logout"),
]
