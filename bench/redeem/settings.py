"""Settings of the redeem benchmark: the product's settings plus the comparison endpoints
(the floor, and the bare endpoint's DRF token auth: `rest_framework.authtoken` is installed
here only)."""

from config.settings.test import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "rest_framework.authtoken"]  # noqa: F405
ROOT_URLCONF = "bench.redeem.urls"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
LOGGING = {"version": 1, "disable_existing_loggers": True, "root": {"level": "ERROR"}}
