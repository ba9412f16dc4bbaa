"""`GET /api/v1/alliances`: the alliances of partner cities and their members (public)."""

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, serializers

from core.api import error_responses

from .models import Alliance, City


class AllianceMemberOutput(serializers.ModelSerializer):
    class Meta:
        model = City
        fields = ["code", "name", "name_en", "province"]


class AllianceOutput(serializers.ModelSerializer):
    code = serializers.CharField(help_text="The alliance's code: `alliance=` of the dashboards.")
    members = AllianceMemberOutput(many=True, help_text="Its member cities now, by code.")

    class Meta:
        model = Alliance
        fields = ["code", "name", "name_en", "members"]


def alliances_with_members() -> QuerySet[Alliance]:
    """Every alliance with its member cities (2 queries)."""
    members = City.objects.only("code", "name", "name_en", "province").order_by("code")
    return Alliance.objects.prefetch_related(Prefetch("members", queryset=members)).order_by("code")


@extend_schema(
    tags=["public"],
    summary="Alliances of partner cities and their member cities",
    description="A city may belong to several alliances. Alliance staff see the dashboards "
    "of their alliance's members (`alliance=CODE` on the dashboard endpoints); an offer may "
    "be open to the residents of an alliance's member cities.",
    responses={200: AllianceOutput(many=True), **error_responses(400, 404)},
)
class AllianceListView(generics.ListAPIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    serializer_class = AllianceOutput

    def get_queryset(self) -> QuerySet[Alliance]:
        return alliances_with_members()
