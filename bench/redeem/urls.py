"""The product's URLs plus the floor: the same stack and auth as redemption (JWT, merchant
staff permission, DRF, JSON), doing one conditional UPDATE of one row and nothing else."""

from django.urls import path
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as product
from core.api import IsMerchantStaff
from incentives.models import Voucher


class Floor(APIView):
    permission_classes = [IsMerchantStaff]

    def post(self, request):
        flipped = Voucher.objects.filter(pk=int(request.data["id"]), status="issued").update(
            status="redeemed", redeemed_at=timezone.now()
        )
        return Response({"flipped": flipped}, status=201 if flipped else 409)


urlpatterns = [path("bench/floor", Floor.as_view()), *product]
