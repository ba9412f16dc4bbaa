from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("审计")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.privacy import register_section

        from . import admin_access, admin_history, selectors

        # GET /api/v1/me/data: who among the staff opened this resident's data
        register_section("accessed_by", selectors.accesses_for_resident)
        # every tracked model's admin page lists its trail (admin.site is filled by now:
        # django.contrib.admin autodiscovers in its ready(), which runs before this one)
        admin_history.attach_history_to_admin()
        # the admin pages that show residents' data log who opened them
        admin_access.attach_access_log_to_admin()
