"""Template tags of the admin's pages: the home page's figures and the header greeting
(merchants.admin.home)."""

from typing import Any

from django import template
from django.utils.translation import gettext as _

from ..admin.home import city_home, greeting_name, merchant_home

register = template.Library()


@register.simple_tag(takes_context=True)
def admin_home(context: dict[str, Any]) -> dict[str, Any]:
    """{% admin_home as home %}: home.merchant (merchant staff) and home.city (city staff,
    superusers), each None when it does not apply."""
    user = context["request"].user
    return {"merchant": merchant_home(user=user), "city": city_home(user=user)}


@register.simple_tag(takes_context=True)
def staff_greeting(context: dict[str, Any]) -> str:
    """The name the header greets: the person and their merchant or city, never the phone
    number that is their login."""
    user = context["request"].user
    return greeting_name(user) or (_("平台运营") if user.is_superuser else _("工作人员"))
