from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("审计")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from celery.signals import task_postrun, task_prerun

        from accounts.privacy import register_section

        from . import admin_access, admin_history, middleware, selectors

        # GET /api/v1/me/data: who among the staff opened this resident's data
        register_section("accessed_by", selectors.accesses_for_resident)
        # every tracked model's admin page lists its trail (admin.site is filled by now:
        # django.contrib.admin autodiscovers in its ready(), which runs before this one)
        admin_history.attach_history_to_admin()
        # the admin pages that show residents' data log who opened them
        admin_access.attach_access_log_to_admin()
        # trail rows written by a Celery task name the task
        task_prerun.connect(middleware.task_started, weak=False, dispatch_uid="audit-task-start")
        task_postrun.connect(middleware.task_finished, weak=False, dispatch_uid="audit-task-end")
