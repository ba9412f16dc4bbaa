"""The product's URLs plus two comparison endpoints, each doing one conditional UPDATE of
one row and nothing else:

- the floor: the same stack and auth as redemption (JWT, merchant staff permission);
- bare: what a minimal Django + DRF endpoint does, DRF's own token authentication
  (`rest_framework.authtoken`: one query for the token and its user) and IsAuthenticated.
"""

from django.urls import path
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as product
from core.api import IsMerchantStaff
from core.auth import ClaimsJWTAuthentication
from incentives.models import Voucher


def _flip(request) -> Response:
    flipped = Voucher.objects.filter(pk=int(request.data["id"]), status="issued").update(
        status="redeemed", redeemed_at=timezone.now()
    )
    return Response({"flipped": flipped}, status=201 if flipped else 409)


class Floor(APIView):
    authentication_classes = [ClaimsJWTAuthentication]  # as RedemptionsView
    permission_classes = [IsMerchantStaff]

    def post(self, request):
        return _flip(request)


class Bare(APIView):
    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]

    def post(self, request):
        return _flip(request)


urlpatterns = [path("bench/floor", Floor.as_view()), path("bench/bare", Bare.as_view()), *product]
