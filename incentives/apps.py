from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncentivesConfig(AppConfig):
    name = "incentives"
    verbose_name = _("守信激励")

    def ready(self) -> None:
        from accounts.privacy import register_section
        from accounts.signals import account_closing, resident_listed

        from .privacy import entitlement_uses_of, incidents_of, vouchers_of
        from .receivers import on_account_closing, on_resident_listed

        resident_listed.connect(on_resident_listed, dispatch_uid="incentives-revoke-listed")
        account_closing.connect(on_account_closing, dispatch_uid="incentives-account-closing")
        register_section("vouchers", vouchers_of)
        register_section("entitlement_uses", entitlement_uses_of)
        register_section("incidents", incidents_of)
