from django.urls import path

from . import views

app_name = "web"

urlpatterns = [
    path("m/", views.resident_app, name="resident"),
    path("scan/", views.scanner_app, name="scanner"),
]
