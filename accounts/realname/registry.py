"""The configured identity provider: the sandbox unless IDENTITY_PROVIDER names another."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .providers import HttpIdentityProvider, IdentityProvider, SandboxIdentityProvider


def identity_provider() -> IdentityProvider:
    conf = settings.IDENTITY_PROVIDER or {}
    kind = conf.get("kind", "sandbox")
    if kind == "sandbox":
        return SandboxIdentityProvider(
            conf.get("persons_file", settings.CREDIT_SANDBOX_FILE), settings.ID_HASH_KEY
        )
    if kind == "http":
        try:
            return HttpIdentityProvider(
                conf["base_url"],
                conf["app_key"],
                conf["app_secret"],
                timeout=float(conf.get("timeout", 3.0)),
                retries=int(conf.get("retries", 2)),
                backoff=float(conf.get("backoff", 0.2)),
            )
        except KeyError as exc:
            raise ImproperlyConfigured(f"IDENTITY_PROVIDER (http) needs {exc.args[0]}") from None
    raise ImproperlyConfigured(f"unknown identity provider kind {kind!r}")
