"""The credit pass (resident) and pass checks (merchant staff), the resident's and the
merchant's entitlement uses (api.md)."""

from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import IsMerchantStaff, IsResident, error_responses
from core.auth import ClaimsJWTAuthentication, claims_user_id, signed_in_user
from core.errors import NOT_FOUND

from .. import signing
from ..idempotency import IDEMPOTENCY_PARAM, idempotent
from ..qr import qr_response
from ..vouchers.services import merchant_of
from . import preview, selectors, services
from .models import EntitlementUse
from .serializers import (
    CreditPassOutput,
    MerchantUseOutput,
    PassCheckInput,
    PassCheckOutput,
    PassPreviewInput,
    PassPreviewOutput,
    PassQrQuery,
    ResidentUseOutput,
    pass_check_payload,
    pass_check_ref,
    pass_preview_payload,
)


class CreditPassView(APIView):
    permission_classes = [IsResident]

    @extend_schema(
        tags=["credit"],
        summary="My personal credit pass (信用码): a QR valid for at most five minutes",
        description="A signed token of its own type (never accepted as a voucher). It names "
        "the tier, home city and masked holder here, never the score; the token itself "
        "carries only the holder's id, the expiry and the pass id (a counter can read a QR).",
        responses={
            200: CreditPassOutput,
            **error_responses(
                401,
                403,
                s403="consent_required, no_standing, not_eligible (detail.reasons: "
                "seriously_dishonest, standing_expired)",
            ),
        },
    )
    def get(self, request: Request) -> Response:
        credit_pass = services.issue_pass(resident=signed_in_user(request))
        city = credit_pass.home_city
        english = (request.LANGUAGE_CODE or "").startswith("en")
        qr = {
            kind: request.build_absolute_uri(reverse(f"credit-pass-qr-{kind}"))
            + f"?token={credit_pass.token}"
            for kind in ("png", "svg")
        }
        data = {
            "token": credit_pass.token,
            "expires_at": credit_pass.expires_at,
            "valid_seconds": max(0, int((credit_pass.expires_at - timezone.now()).total_seconds())),
            "tier": credit_pass.tier,
            "home_city": {
                "code": city.code,
                "name": city.name_en if english and city.name_en else city.name,
            },
            "holder": credit_pass.holder,
            "qr_png_url": qr["png"],
            "qr_svg_url": qr["svg"],
        }
        return Response(CreditPassOutput(data).data, headers={"Cache-Control": "no-store, private"})


def _own_pass_token(request: Request) -> str:
    query = PassQrQuery(data=request.query_params.dict())
    query.is_valid(raise_exception=True)
    token = query.validated_data["token"]
    try:
        claims = signing.verify_pass(token)
    except signing.InvalidToken:
        raise NOT_FOUND() from None
    if claims.resident_id != request.user.pk or claims.expires_at <= timezone.now():
        raise NOT_FOUND()
    return token


class CreditPassQrPngView(APIView):
    permission_classes = [IsResident]

    @extend_schema(
        tags=["credit"],
        summary="The QR of one of my current credit passes, PNG",
        parameters=[PassQrQuery],
        responses={
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY),
            **error_responses(400, 401, 403, 404, s404="not_found (not my pass, or expired)"),
        },
    )
    def get(self, request: Request) -> HttpResponse:
        return qr_response(_own_pass_token(request), "png", cache_control="no-store")


class CreditPassQrSvgView(APIView):
    permission_classes = [IsResident]

    @extend_schema(
        tags=["credit"],
        summary="The QR of one of my current credit passes, SVG",
        parameters=[PassQrQuery],
        responses={
            (200, "image/svg+xml"): OpenApiResponse(OpenApiTypes.STR),
            **error_responses(400, 401, 403, 404, s404="not_found (not my pass, or expired)"),
        },
    )
    def get(self, request: Request) -> HttpResponse:
        return qr_response(_own_pass_token(request), "svg", cache_control="no-store")


class PassChecksView(GenericAPIView):
    # The caller from the token's claims alone; the check's read re-checks active staff.
    authentication_classes = [ClaimsJWTAuthentication]
    permission_classes = [IsMerchantStaff]
    serializer_class = MerchantUseOutput
    queryset = EntitlementUse.objects.none()

    @extend_schema(
        tags=["merchant"],
        summary="Check a credit pass and apply an entitlement offer, once",
        request=PassCheckInput,
        parameters=[IDEMPOTENCY_PARAM],
        responses={
            201: PassCheckOutput,
            **error_responses(
                400,
                401,
                403,
                404,
                409,
                410,
                415,
                s400="invalid_token (malformed, bad signature, a voucher token), "
                "invalid_request (not an entitlement offer)",
                s403="wrong_merchant, not_merchant_staff, not_eligible (detail.reasons)",
                s404="not_found (no such offer)",
                s409="usage_limit_reached (detail.next_available_at), pass_already_used, "
                "idempotency_key_reused, request_in_progress",
                s410="pass_expired, offer_not_active",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        body = pass_check_ref(request.data)

        def work() -> Response:
            use = services.check_pass(staff_id=claims_user_id(request), **body)
            return Response(pass_check_payload(use), status=201)

        return idempotent(request, "pass-check", work)

    @extend_schema(
        tags=["merchant"],
        summary="My merchant's entitlement uses, newest first (to report an incident on)",
        responses={
            200: MerchantUseOutput(many=True),
            **error_responses(
                400, 401, 403, 404, s400="invalid_request (bad page)", s404="not_found (page)"
            ),
        },
    )
    def get(self, request: Request) -> Response:
        merchant_id = merchant_of(claims_user_id(request))
        page = self.paginate_queryset(selectors.merchant_uses(merchant_id=merchant_id))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class PassPreviewView(GenericAPIView):
    permission_classes = [IsMerchantStaff]
    serializer_class = PassPreviewOutput

    @extend_schema(
        tags=["merchant"],
        summary="Look at a credit pass before applying: the masked holder and what can be "
        "applied now (changes nothing)",
        request=PassPreviewInput,
        responses={
            200: PassPreviewOutput,
            **error_responses(
                400,
                401,
                403,
                410,
                415,
                s400="invalid_token (malformed, bad signature, a voucher token)",
                s403="not_merchant_staff",
                s410="pass_expired",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        body = PassPreviewInput(data=request.data)
        body.is_valid(raise_exception=True)
        seen = preview.preview_pass(
            staff_id=signed_in_user(request).pk, token=body.validated_data["token"]
        )
        data = PassPreviewOutput(pass_preview_payload(seen)).data
        return Response(data, headers={"Cache-Control": "no-store, private"})


class ResidentUsesView(GenericAPIView):
    permission_classes = [IsResident]
    serializer_class = ResidentUseOutput
    queryset = EntitlementUse.objects.none()

    @extend_schema(
        tags=["vouchers"],
        summary="My uses of entitlements, newest first",
        responses={
            200: ResidentUseOutput(many=True),
            **error_responses(
                400, 401, 403, 404, s400="invalid_request (bad page)", s404="not_found (page)"
            ),
        },
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.resident_uses(resident=signed_in_user(request)))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
