"""Settings of the redeem benchmark: the product's settings plus a floor endpoint."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.redeem.urls"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
LOGGING = {"version": 1, "disable_existing_loggers": True, "root": {"level": "ERROR"}}
