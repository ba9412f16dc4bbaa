"""Vouchers API: claims, the resident's vouchers and their QR codes, the voucher keys, and
the merchant's scan, redemption, offline batch and scanner setup (docs/api.md)."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import IsMerchantStaff, IsResident, error_responses
from core.auth import ClaimsJWTAuthentication, claims_user_id, signed_in_user
from core.errors import NOT_FOUND

from .. import signing
from ..idempotency import HEADER, IDEMPOTENCY_PARAM, Keyed, idempotent, recorded_in_work
from ..qr import qr_response
from . import offline, selectors, services
from .models import Voucher
from .serializers import (
    OfflineRedemptionOutput,
    OfflineRedemptionQuery,
    RedemptionBatchInput,
    RedemptionBatchOutput,
    RedemptionListQuery,
    RedemptionOutput,
    ScannerSetupOutput,
    ScanOutput,
    VoucherKeyOutput,
    VoucherListQuery,
    VoucherOutput,
    VoucherRefInput,
    redemption_payload,
    voucher_payload,
    voucher_ref,
)


class ClaimView(APIView):
    # The caller from the token's claims alone; the claim's read re-checks an active resident.
    authentication_classes = [ClaimsJWTAuthentication]
    permission_classes = [IsResident]

    @extend_schema(
        tags=["vouchers"],
        summary="Claim an offer: a single-use QR voucher",
        request=None,
        parameters=[IDEMPOTENCY_PARAM],
        responses={
            201: VoucherOutput,
            **error_responses(
                400,
                401,
                403,
                404,
                409,
                410,
                s403="consent_required, no_standing, not_eligible (detail.reasons)",
                s409="quota_exhausted, claim_limit_reached, idempotency_key_reused, "
                "request_in_progress",
                s410="offer_not_active",
            ),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        resident_id = claims_user_id(request)

        def work(keyed: Keyed | None) -> Response:
            if keyed is None:
                voucher = services.claim_offer(resident_id=resident_id, offer_id=pk)
                return Response(voucher_payload(voucher, request), status=201)
            claimed = services.claim_offer_keyed(
                resident_id=resident_id,
                offer_id=pk,
                keyed=keyed,
                answer=lambda voucher: voucher_payload(voucher, request),
            )
            return Response(claimed.answer, status=201)

        def locking_work() -> Response:  # a key whose first attempt holds its row locked
            voucher = services.claim_offer(
                resident_id=resident_id,
                offer_id=pk,
                idempotency_key=request.headers.get(HEADER, ""),
            )
            return Response(voucher_payload(voucher, request), status=201)

        # the key's answer is stored by the claim's own statements (issue 27)
        return recorded_in_work(request, "claim", work, locking_work)


class VoucherListView(GenericAPIView):
    permission_classes = [IsResident]
    serializer_class = VoucherOutput
    queryset = Voucher.objects.none()

    @extend_schema(
        tags=["vouchers"],
        summary="My vouchers, newest first",
        parameters=[VoucherListQuery],
        responses={
            200: VoucherOutput(many=True),
            **error_responses(400, 401, 403, 404, s404="not_found (page out of range)"),
        },
    )
    def get(self, request: Request) -> Response:
        query = VoucherListQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        vouchers = selectors.resident_vouchers(
            resident=signed_in_user(request), status=query.validated_data.get("status")
        )
        page = self.paginate_queryset(vouchers)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


def _own_voucher(request: Request, code: str) -> Voucher:
    # what cannot be a code (a NUL, a wrong check character) names no voucher
    normalized = signing.normalize_code(code)
    voucher = (
        selectors.resident_vouchers(resident=signed_in_user(request))
        .filter(code=normalized)
        .first()
        if normalized
        else None
    )
    if voucher is None:
        raise NOT_FOUND()
    return voucher


class VoucherDetailView(APIView):
    permission_classes = [IsResident]

    @extend_schema(
        tags=["vouchers"],
        summary="One of my vouchers",
        responses={200: VoucherOutput, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, code: str) -> Response:
        voucher = _own_voucher(request, code)
        return Response(VoucherOutput(voucher, context={"request": request}).data)


class VoucherQrPngView(APIView):
    permission_classes = [IsResident]

    @extend_schema(
        tags=["vouchers"],
        summary="The QR code of my voucher's token, PNG",
        responses={
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY),
            **error_responses(401, 403, 404),
        },
    )
    def get(self, request: Request, code: str) -> HttpResponse:
        voucher = _own_voucher(request, code)
        return qr_response(
            signing.voucher_token(voucher), "png", cache_control="private, max-age=300"
        )


class VoucherQrSvgView(APIView):
    permission_classes = [IsResident]

    @extend_schema(
        tags=["vouchers"],
        summary="The QR code of my voucher's token, SVG",
        responses={
            (200, "image/svg+xml"): OpenApiResponse(OpenApiTypes.STR),
            **error_responses(401, 403, 404),
        },
    )
    def get(self, request: Request, code: str) -> HttpResponse:
        voucher = _own_voucher(request, code)
        return qr_response(
            signing.voucher_token(voucher), "svg", cache_control="private, max-age=300"
        )


class VoucherCancelView(APIView):
    permission_classes = [IsResident]

    @extend_schema(
        tags=["vouchers"],
        summary="Cancel my unused voucher (its place returns to the offer)",
        request=None,
        responses={
            200: VoucherOutput,
            **error_responses(401, 403, 404, 409, s409="voucher_not_cancellable"),
        },
    )
    def post(self, request: Request, code: str) -> Response:
        voucher = services.cancel_voucher(resident_id=signed_in_user(request).pk, code=code)
        return Response(VoucherOutput(voucher, context={"request": request}).data)


class VoucherKeysView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []

    @extend_schema(
        tags=["public"],
        summary="Public keys that sign voucher QR tokens (for offline checks)",
        responses={200: VoucherKeyOutput(many=True)},
    )
    def get(self, request: Request) -> Response:
        keys = [
            {
                "kid": key.kid,
                "alg": "Ed25519",
                "public_key": key.public_b64,
                "not_before": key.not_before,
                "not_after": key.not_after,
            }
            for key in signing.signing_keys().values()
        ]
        return Response(VoucherKeyOutput(keys, many=True).data)


class ScanView(APIView):
    permission_classes = [IsMerchantStaff]

    @extend_schema(
        tags=["merchant"],
        summary="Preview a scanned voucher (changes nothing)",
        request=VoucherRefInput,
        responses={
            200: ScanOutput,
            **error_responses(
                400,
                401,
                403,
                404,
                415,
                s400="invalid_token (detail.reason: malformed, unknown_key, key_not_valid, "
                "bad_signature, bad_code), invalid_request",
                s404="not_found: no such voucher, or another merchant's (its status is not told)",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        ref = VoucherRefInput(data=request.data)
        ref.is_valid(raise_exception=True)
        preview = services.preview_voucher(
            staff_id=signed_in_user(request).pk, **ref.validated_data
        )
        data = {
            "voucher": preview.voucher,
            "redeemable": preview.redeemable,
            "reason": preview.reason,
        }
        return Response(ScanOutput(data, context={"same_merchant": preview.same_merchant}).data)


class RedemptionsView(GenericAPIView):
    # The caller from the token's claims alone; the statement re-checks active staff.
    authentication_classes = [ClaimsJWTAuthentication]
    permission_classes = [IsMerchantStaff]
    serializer_class = RedemptionOutput
    queryset = Voucher.objects.none()

    @extend_schema(
        tags=["merchant"],
        summary="Redeem a voucher, exactly once",
        request=VoucherRefInput,
        parameters=[IDEMPOTENCY_PARAM],
        responses={
            201: RedemptionOutput,
            **error_responses(
                400,
                401,
                403,
                404,
                409,
                410,
                415,
                s400="invalid_token (malformed, bad signature, unknown key), invalid_request",
                s403="wrong_merchant, not_merchant_staff",
                s409="already_redeemed (detail.redeemed_at), idempotency_key_reused, "
                "request_in_progress",
                s410="voucher_expired, voucher_revoked, voucher_cancelled",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        ref = voucher_ref(request.data)

        def work() -> Response:
            redemption = services.redeem_voucher(staff_id=claims_user_id(request), **ref)
            return Response(redemption_payload(redemption), status=201)

        return idempotent(request, "redeem", work)

    @extend_schema(
        tags=["merchant"],
        summary="My merchant's redemptions (dates are Asia/Shanghai days, inclusive)",
        parameters=[RedemptionListQuery],
        responses={
            200: RedemptionOutput(many=True),
            **error_responses(400, 401, 403, 404, s404="not_found (page out of range)"),
        },
    )
    def get(self, request: Request) -> Response:
        query = RedemptionListQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        redemptions = selectors.merchant_redemptions(
            merchant_id=services.merchant_of(claims_user_id(request)), **query.validated_data
        )
        page = self.paginate_queryset(redemptions)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class RedemptionBatchView(APIView):
    permission_classes = [IsMerchantStaff]

    @extend_schema(
        tags=["merchant"],
        summary="Upload what a scanner redeemed while offline",
        description=(
            f"At most {offline.MAX_BATCH} rows per request (more is 400 invalid_request; a "
            "body over the upload limit is 413 request_too_large). A batch that does not "
            "parse (no rows, a malformed row, a nonce twice) is refused whole and changes "
            "nothing. Otherwise each row is applied on its own and atomically, exactly once "
            "per nonce: the same nonce again answers the stored result, so a scanner "
            "simply re-sends its queue after a lost answer. A voucher is judged as it was "
            "at `scanned_at` (no earlier than 72 hours before the upload); a voucher that "
            "someone else redeemed first is `already_redeemed` with the first time and is "
            "recorded as a conflict (GET merchant/redemptions/offline?conflict=true)."
        ),
        request=RedemptionBatchInput,
        responses={
            200: RedemptionBatchOutput,
            **error_responses(
                400,
                401,
                403,
                413,
                415,
                s400="invalid_request (detail per row index)",
                s403="not_merchant_staff, permission_denied",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        batch = RedemptionBatchInput(data=request.data)
        batch.is_valid(raise_exception=True)
        scans = [offline.OfflineScan(**row) for row in batch.validated_data["redemptions"]]
        results = offline.redeem_offline_batch(staff_id=signed_in_user(request).pk, scans=scans)
        return Response(RedemptionBatchOutput({"results": results}).data)


class OfflineRedemptionsView(GenericAPIView):
    permission_classes = [IsMerchantStaff]
    serializer_class = OfflineRedemptionOutput
    queryset = Voucher.objects.none()

    @extend_schema(
        tags=["merchant"],
        summary="My merchant's uploaded offline redemptions and their outcomes, newest first",
        description="Dates are Asia/Shanghai days of the upload (inclusive); conflict=true "
        "lists only vouchers that had been redeemed elsewhere first.",
        parameters=[OfflineRedemptionQuery],
        responses={
            200: OfflineRedemptionOutput(many=True),
            **error_responses(400, 401, 403, 404, s404="not_found (page out of range)"),
        },
    )
    def get(self, request: Request) -> Response:
        query = OfflineRedemptionQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        rows = selectors.merchant_offline_redemptions(
            merchant_id=services.merchant_of(signed_in_user(request).pk), **query.validated_data
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class ScannerSetupView(APIView):
    permission_classes = [IsMerchantStaff]

    @extend_schema(
        tags=["merchant"],
        summary="What a scanner needs to work offline: its merchant and the batch limits",
        responses={200: ScannerSetupOutput, **error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        merchant = services.merchant_for_scanner(signed_in_user(request).pk)
        data = {
            "merchant_id": merchant.pk,
            "merchant_name": merchant.name,
            "max_batch": offline.MAX_BATCH,
            "max_offline_age_hours": int(offline.MAX_OFFLINE_AGE.total_seconds() // 3600),
        }
        return Response(ScannerSetupOutput(data).data)
