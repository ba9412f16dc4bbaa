"""Credit API of the resident: consent, verification, own standing."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import IsResident, error_responses
from core.auth import signed_in_user
from core.errors import NOT_FOUND

from . import errors, services
from .models import ConsentText
from .selectors import standing_of
from .serializers import (
    ConsentInput,
    ConsentOutput,
    ConsentTextOutput,
    PendingOutput,
    StandingOutput,
)


class ConsentTextView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []

    @extend_schema(
        tags=["credit"],
        summary="The current consent text to show before asking for consent",
        responses={200: ConsentTextOutput, **error_responses(404)},
    )
    def get(self, request: Request) -> Response:
        text = ConsentText.objects.filter(is_current=True).first()
        if text is None:
            raise NOT_FOUND()
        return Response(ConsentTextOutput(text).data)


class ConsentView(APIView):
    permission_classes = [IsResident]

    @extend_schema(
        tags=["credit"],
        summary="My active consent to credit queries",
        responses={200: ConsentOutput, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request) -> Response:
        consent = services.active_consent(signed_in_user(request))
        if consent is None:
            raise NOT_FOUND()
        return Response(ConsentOutput(consent).data)

    @extend_schema(
        tags=["credit"],
        summary="Consent to credit queries (separate consent, PIPL art. 29)",
        request=ConsentInput,
        responses={
            201: ConsentOutput,
            **error_responses(
                400, 401, 403, 415, s400="invalid_request (unknown or outdated version)"
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = ConsentInput(data=request.data)
        data.is_valid(raise_exception=True)
        consent = services.give_consent(
            resident=signed_in_user(request), version=data.validated_data["consent_version"]
        )
        return Response(ConsentOutput(consent).data, status=201)

    @extend_schema(
        tags=["credit"],
        summary="Withdraw consent: no new query is made for me from now on",
        responses={204: None, **error_responses(401, 403)},
    )
    def delete(self, request: Request) -> Response:
        services.withdraw_consent(resident=signed_in_user(request))
        return Response(status=204)


class VerifyView(APIView):
    permission_classes = [IsResident]

    @extend_schema(
        tags=["credit"],
        summary="Verify my standing with my home city's credit provider",
        request=None,
        responses={
            200: StandingOutput,
            202: OpenApiResponse(PendingOutput, description="provider slow: answer follows"),
            **error_responses(
                401,
                403,
                404,
                503,
                s403="consent_required",
                s404="no_standing (the home city's platform does not know this person)",
                s503="provider_unavailable (and no usable standing on file)",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        resident = signed_in_user(request)
        result = services.verify_standing(resident=resident)
        if result.state == "pending":
            return Response({"status": "pending"}, status=202)
        standing = standing_of(resident)
        return Response(StandingOutput(standing).data)


class StandingView(APIView):
    permission_classes = [IsResident]

    @extend_schema(
        tags=["credit"],
        summary="My credit standing, with its equivalents in every partner city",
        responses={200: StandingOutput, **error_responses(401, 403, 404, s404="no_standing")},
    )
    def get(self, request: Request) -> Response:
        standing = standing_of(signed_in_user(request))
        if standing is None:
            raise errors.NO_STANDING()
        return Response(StandingOutput(standing).data)
