"""Personal-data access log for the admin pages that show residents' data: opening one
(a change page) or a list of them (a change list page) records who looked, at whom,
from where (audit.services.record_access).

Like admin_history, the pages' ModelAdmin classes stay in their apps; at start-up
(audit.apps) each is registered again as a subclass with AccessLoggingMixin."""

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from accounts.models import User
from core.roles import Role
from incentives.incidents.models import Incident
from incentives.vouchers.models import OfflineRedemption

from .services import What, record_access, record_accesses


def _user_resident(u: Any) -> int | None:
    return u.pk if u.role == Role.RESIDENT else None


# model → (what a page of one shows, what a list shows, the resident an object is about)
WATCHED: dict[type, tuple[str, str, Callable[[Any], int | None]]] = {
    Incident: (What.INCIDENT, What.INCIDENT_LIST, lambda o: o.resident_id),
    OfflineRedemption: (
        What.OFFLINE_CONFLICT,
        What.OFFLINE_CONFLICT_LIST,
        lambda o: o.voucher.resident_id if o.voucher_id else None,
    ),
    User: (What.ACCOUNT, What.ACCOUNT_LIST, _user_resident),
}


class AccessLoggingMixin:
    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
        obj = (getattr(response, "context_data", None) or {}).get("original")
        if obj is not None and response.status_code == 200:
            what, _, resident_of = WATCHED[type(obj)._meta.concrete_model]
            record_access(
                request=request, resident_id=resident_of(obj), what=what, object_ref=f"#{obj.pk}"
            )
        return response

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)  # type: ignore[misc]
        cl = (getattr(response, "context_data", None) or {}).get("cl")
        if cl is not None and response.status_code == 200:
            _, what, resident_of = WATCHED[self.model._meta.concrete_model]  # type: ignore[attr-defined]
            ids = [r for r in (resident_of(o) for o in cl.result_list) if r is not None]
            record_accesses(request=request, resident_ids=ids, what=what)
        return response


def attach_access_log_to_admin(site: admin.AdminSite = admin.site) -> None:
    for model in WATCHED:
        if not site.is_registered(model):
            continue
        current: type[Any] = type(site.get_model_admin(model))
        if issubclass(current, AccessLoggingMixin):
            continue
        logged = type(
            current.__name__, (AccessLoggingMixin, current), {"__module__": current.__module__}
        )
        site.unregister(model)
        site.register(model, logged)
