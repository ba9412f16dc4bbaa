"""Incidents API: the resident's incidents and objections, the merchant's reports (api.md)."""

from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import IsMerchantStaff, IsResident, error_responses
from core.auth import signed_in_user

from . import selectors, services
from .models import Incident
from .serializers import IncidentOutput, IncidentReportInput, IncidentReportOutput, ObjectionInput


class ResidentIncidentsView(GenericAPIView):
    permission_classes = [IsResident]
    serializer_class = IncidentOutput
    queryset = Incident.objects.none()

    @extend_schema(
        tags=["vouchers"],
        summary="Incidents reported against me, with any suspension they bring",
        responses={
            200: IncidentOutput(many=True),
            **error_responses(
                400, 401, 403, 404, s400="invalid_request (bad page)", s404="not_found (page)"
            ),
        },
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(
            selectors.resident_incidents(resident=signed_in_user(request))
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class ObjectionView(APIView):
    permission_classes = [IsResident]

    @extend_schema(
        tags=["vouchers"],
        summary="Object (异议) to an incident reported against me, once",
        request=ObjectionInput,
        responses={
            201: IncidentOutput,
            **error_responses(
                400,
                401,
                403,
                404,
                409,
                415,
                s409="objection_exists, incident_not_pending (dismissed or decided)",
            ),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        body = ObjectionInput(data=request.data)
        body.is_valid(raise_exception=True)
        incident = services.object_to_incident(
            resident=signed_in_user(request), incident_id=pk, text=body.validated_data["text"]
        )
        incident = selectors.resident_incidents(resident=signed_in_user(request)).get(
            pk=incident.pk
        )
        return Response(IncidentOutput(incident).data, status=201)


class MerchantIncidentsView(APIView):
    permission_classes = [IsMerchantStaff]

    @extend_schema(
        tags=["merchant"],
        summary="Report an incident on one of my uses or vouchers (city staff decide)",
        request=IncidentReportInput,
        responses={
            201: IncidentReportOutput,
            **error_responses(
                400, 401, 403, 404, 415, s404="not_found (not this merchant's use or voucher)"
            ),
        },
    )
    def post(self, request: Request) -> Response:
        body = IncidentReportInput(data=request.data)
        body.is_valid(raise_exception=True)
        incident = services.report_incident(staff=signed_in_user(request), **body.validated_data)
        return Response({"id": incident.pk, "status": incident.status}, status=201)
