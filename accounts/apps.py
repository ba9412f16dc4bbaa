from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("账户与信用")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed

        from core import checks  # noqa: F401  (registers the project's system checks)

        from .security.auth import on_login_failed

        # every failed password login (API, admin, dashboard) counts against the phone
        user_login_failed.connect(on_login_failed, dispatch_uid="accounts-count-login-failure")
