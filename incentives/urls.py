"""The incentives API's routes: each package's own (config/urls.py includes this list)."""

from .incidents import urls as incidents
from .offers import urls as offers
from .passes import urls as passes
from .risk import urls as risk
from .statements import urls as statements
from .vouchers import urls as vouchers

urlpatterns = [
    *offers.urlpatterns,
    *vouchers.urlpatterns,
    *passes.urlpatterns,
    *incidents.urlpatterns,
    *risk.urlpatterns,
    *statements.urlpatterns,
]
