from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffAuthConfig(AppConfig):
    name = "accounts.staff_auth"
    label = "staff_auth"
    verbose_name = _("员工登录安全")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, signals  # noqa: F401  (registers the check and the receivers)

        signals.connect()
