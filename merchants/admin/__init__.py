"""Django admin for merchants, stations and offers, scoped per role.

Merchant and city staff are not superusers and hold no auth.Permission rows: every
`has_*_permission` decides by role and scope (merchants.scopes), and every queryset is
scoped, so another merchant's object by URL or by forged POST is "does not exist".
Saving and every workflow button call the services (merchants.services); no business
rule lives here. One module per model; the forms are in forms.py.
"""

from .merchant import MerchantAdmin
from .offer import OfferAdmin
from .station import StationAdmin

__all__ = ["MerchantAdmin", "OfferAdmin", "StationAdmin"]
