"""The second-factor pages under /staff/2fa/ (config.urls)."""

from django.urls import path

from . import views

app_name = "staff_auth"

urlpatterns = [
    path("", views.root, name="root"),
    path("verify/", views.verify, name="verify"),
    path("setup/", views.setup, name="setup"),
    path("recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("login/", views.StaffLoginView.as_view(), name="login"),
]
