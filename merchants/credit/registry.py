"""Which enterprise credit provider answers: the sandbox unless settings name another."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from accounts.credit.breaker import CircuitBreaker, breaker_store

from .providers import EnterpriseCreditProvider, EnterpriseHttpProvider, EnterpriseSandbox


def enterprise_provider() -> EnterpriseCreditProvider:
    conf = settings.ENTERPRISE_CREDIT_PROVIDER
    kind = conf.get("kind", "sandbox")
    if kind == "sandbox":
        return EnterpriseSandbox(
            conf.get("file", settings.ENTERPRISE_CREDIT_SANDBOX_FILE),
            list_file=conf.get("list_file", settings.ENTERPRISE_CREDIT_SANDBOX_LIST_FILE),
            down=bool(conf.get("down")),
        )
    if kind == "http":
        breaker = CircuitBreaker(
            "credit:enterprise",
            breaker_store(),
            failure_threshold=int(conf.get("breaker_failures", settings.CREDIT_BREAKER_FAILURES)),
            reset_timeout=float(conf.get("breaker_reset", settings.CREDIT_BREAKER_RESET_SECONDS)),
        )
        return EnterpriseHttpProvider(
            conf["base_url"],
            conf["app_key"],
            conf["app_secret"],
            timeout=float(conf.get("timeout", 2.0)),
            retries=int(conf.get("retries", 2)),
            backoff=float(conf.get("backoff", 0.2)),
            breaker=breaker,
        )
    raise ImproperlyConfigured(f"unknown enterprise credit provider kind {kind!r}")
