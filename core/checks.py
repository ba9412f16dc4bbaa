"""System checks of the project's own (registered by accounts.apps).

- xinyou.E001: the production profile needs METRICS_TOKEN. Without it /metrics answers
  loopback callers, and behind a proxy every caller is loopback (issue 24, point 4); the
  production settings refuse to load without it as well.
"""

from typing import Any

from django.conf import settings
from django.core import checks

MIN_METRICS_TOKEN = 16


@checks.register(checks.Tags.security)
def metrics_token_in_production(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    if getattr(settings, "XINYOU_PROFILE", "") != "production":
        return []
    token = getattr(settings, "METRICS_TOKEN", None) or ""
    if len(token) >= MIN_METRICS_TOKEN:
        return []
    return [
        checks.Error(
            "DJANGO_ENV=production needs METRICS_TOKEN (16+ characters): without it /metrics "
            "answers any caller that reaches it from loopback, and behind a proxy every "
            "caller does.",
            hint="Set METRICS_TOKEN to a random value and give it to Prometheus as a bearer token.",
            id="xinyou.E001",
        )
    ]
