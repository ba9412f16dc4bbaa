"""Which provider answers for which city: the sandbox unless settings name another."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .breaker import CircuitBreaker, breaker_store
from .providers import CreditProvider, HttpProvider, SandboxProvider


def breaker_for(city_code: str) -> CircuitBreaker | None:
    """The city's shared breaker, or None for a sandbox city."""
    conf = settings.CREDIT_PROVIDERS.get(city_code, {})
    if conf.get("kind", "sandbox") != "http":
        return None
    return CircuitBreaker(
        f"credit:{city_code}",
        breaker_store(),
        failure_threshold=int(conf.get("breaker_failures", settings.CREDIT_BREAKER_FAILURES)),
        reset_timeout=float(conf.get("breaker_reset", settings.CREDIT_BREAKER_RESET_SECONDS)),
    )


def provider_for(
    city_code: str,
    score_range: tuple[int, int] | None = (0, 1000),
    grades: list[str] | None = None,
) -> CreditProvider:
    """The city's provider; a grade scheme's city passes its `grades` (then answers carry
    a grade, which must be one of them)."""
    conf = settings.CREDIT_PROVIDERS.get(city_code, {})
    kind = conf.get("kind", "sandbox")
    if kind == "sandbox":
        return SandboxProvider(
            city_code,
            conf.get("persons_file", settings.CREDIT_SANDBOX_FILE),
            id_key=settings.ID_HASH_KEY,
            delay_seconds=float(conf.get("delay", settings.CREDIT_SANDBOX_DELAY_SECONDS)),
            down=city_code in settings.CREDIT_SANDBOX_DOWN_CITIES or bool(conf.get("down")),
            score_range=score_range or (0, 1000),
            list_file=conf.get("list_file", settings.CREDIT_SANDBOX_LIST_FILE),
            grades=grades,
        )
    if kind == "http":
        return HttpProvider(
            city_code,
            conf["base_url"],
            conf["app_key"],
            conf["app_secret"],
            timeout=float(conf.get("timeout", 2.0)),
            retries=int(conf.get("retries", 2)),
            backoff=float(conf.get("backoff", 0.2)),
            breaker=breaker_for(city_code),
            score_range=score_range,
            grades=grades,
        )
    raise ImproperlyConfigured(f"unknown credit provider kind {kind!r} for city {city_code}")
