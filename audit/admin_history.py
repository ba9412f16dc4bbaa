"""The trail of each tracked object on its admin page: the change page's "history"
link (Django's object history) lists the audit trail rows of the object (who, when, from
where, old → new) above Django's own admin log.

The tracked models' ModelAdmin classes are registered by their apps; at start-up
(audit.apps) each is registered again as a subclass with TrailHistoryMixin, so their
modules need not know about the trail."""

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import HttpRequest, HttpResponse

from . import trail
from .models import EVENT_MODELS

HISTORY_ROWS = 200


class TrailHistoryMixin:
    object_history_template = "admin/audit/object_history.html"

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        rows: list[Any] = []
        if obj is not None and self.has_view_or_change_permission(request, obj):  # type: ignore[attr-defined]
            rows = list(trail_rows(obj))
        context = {"trail_rows": rows, **(extra_context or {})}
        return super().history_view(request, object_id, extra_context=context)  # type: ignore[misc]


def trail_rows(obj: Any) -> list[dict[str, Any]]:
    entries = list(trail.trail_for_object(obj)[:HISTORY_ROWS])
    users = trail.user_labels(entries)
    return [
        {
            "at": e.pgh_created_at,
            "kind": trail.object_kind(e.pgh_obj_model),
            "event": e.pgh_label,
            "user": f"#{e.user_id} {users.get(e.user_id, '')}" if e.user_id else "-",
            "ip": e.ip or "-",
            "changes": trail.changes_text(e),
        }
        for e in entries
    ]


def tracked_models() -> list[type]:
    return [
        m.pgh_tracked_model._meta.concrete_model  # type: ignore[attr-defined]
        for m in EVENT_MODELS
        if not m.pgh_tracked_model._meta.concrete_model._meta.auto_created  # type: ignore[attr-defined]
    ]


def attach_history_to_admin(site: admin.AdminSite = admin.site) -> None:
    for model in tracked_models():
        if not site.is_registered(model):
            continue
        current: type[Any] = type(site.get_model_admin(model))
        if issubclass(current, TrailHistoryMixin):
            continue
        audited = type(
            current.__name__, (TrailHistoryMixin, current), {"__module__": current.__module__}
        )
        site.unregister(model)
        site.register(model, audited)
