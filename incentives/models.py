"""The models of the `incentives` app, an index: each package keeps its own models
(vouchers, passes, incidents, dashboard, statements); the idempotency record, shared by the
hot paths, is defined here."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from .dashboard.models import (
    CityDay,
    CityMonth,
    CityPairDay,
    CityPairMonth,
    CityTotalDay,
    ClaimantSet,
    DirtyDay,
    OfferDay,
    OfferMonth,
    RollupRefresh,
)
from .incidents.models import Incident, IncidentEvent
from .passes.models import EntitlementTally, EntitlementUse, RefusalCount
from .risk.models import RiskSignal
from .statements.models import (
    Statement,
    StatementAdjustment,
    StatementClose,
    StatementEntry,
    StatementLine,
)
from .vouchers.models import ClaimTally, OfflineRedemption, Redemption, Voucher

__all__ = [
    "CityDay",
    "CityMonth",
    "CityPairDay",
    "CityPairMonth",
    "CityTotalDay",
    "ClaimTally",
    "ClaimantSet",
    "DirtyDay",
    "EntitlementTally",
    "EntitlementUse",
    "IdempotencyRecord",
    "Incident",
    "IncidentEvent",
    "OfferDay",
    "OfferMonth",
    "OfflineRedemption",
    "Redemption",
    "RefusalCount",
    "RiskSignal",
    "RollupRefresh",
    "Statement",
    "StatementAdjustment",
    "StatementClose",
    "StatementEntry",
    "StatementLine",
    "Voucher",
]


class IdempotencyRecord(models.Model):
    """The first response to a (user, scope, Idempotency-Key), replayed for 24 hours."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=40)
    key = models.CharField(max_length=64)
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    completed = models.BooleanField(default=False)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "scope", "key"], name="idempotency_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.scope}:{self.key}"
