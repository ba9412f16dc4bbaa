"""The configured SMS gateway: the sandbox unless SMS_GATEWAY names another."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .gateways import HttpGateway, SandboxGateway, SmsGateway


def gateway() -> SmsGateway:
    conf = settings.SMS_GATEWAY or {}
    kind = conf.get("kind", "sandbox")
    if kind == "sandbox":
        return SandboxGateway()
    if kind == "http":
        try:
            return HttpGateway(
                conf["base_url"],
                conf["app_key"],
                conf["app_secret"],
                sign_name=conf.get("sign_name", "信游"),
                template=conf.get("template", "verification_code"),
                notice_template=conf.get("notice_template", "notice"),
                timeout=float(conf.get("timeout", 2.0)),
                retries=int(conf.get("retries", 2)),
                backoff=float(conf.get("backoff", 0.2)),
            )
        except KeyError as exc:
            raise ImproperlyConfigured(f"SMS_GATEWAY (http) needs {exc.args[0]}") from None
    raise ImproperlyConfigured(f"unknown SMS gateway kind {kind!r}")
