from django.urls import path

from . import pwa, views

app_name = "web"

urlpatterns = [
    path("m/", views.resident_app, name="resident"),
    path("m/sw.js", pwa.resident_worker, name="resident-worker"),
    path("m/manifest.webmanifest", pwa.manifest, name="manifest"),
    path("scan/", views.scanner_app, name="scanner"),
    path("scan/sw.js", pwa.scanner_worker, name="scanner-worker"),
]
