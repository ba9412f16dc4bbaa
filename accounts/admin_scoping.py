"""Admin pieces shared by the apps' role-scoped admins."""

from django.http import Http404
from django.utils.translation import gettext_lazy as _


class OutOfScopeIsNotFound:
    """An object outside the user's scoped queryset answers 404, as if it did not exist —
    not the admin's usual redirect with a message, and never a form."""

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(_("未找到。"))
        return obj
