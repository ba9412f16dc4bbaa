"""Admin of incentives: each package registers its own models (importing it registers them)."""

from .incidents import admin as incidents_admin  # noqa: F401  (incidents and their audit)
from .risk import admin as risk_admin  # noqa: F401  (risk signals)
from .statements import admin as statements_admin  # noqa: F401  (monthly statements)
from .vouchers import admin as vouchers_admin  # noqa: F401  (offline redemptions)
