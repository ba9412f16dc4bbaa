from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncentivesConfig(AppConfig):
    name = "incentives"
    verbose_name = _("守信激励")

    def ready(self) -> None:
        from accounts.signals import resident_listed

        from .receivers import on_resident_listed

        resident_listed.connect(on_resident_listed, dispatch_uid="incentives-revoke-listed")
