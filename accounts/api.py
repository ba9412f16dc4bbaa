"""Accounts API: SMS codes, registration, tokens (rotating refresh, logout), the user
agreement, own profile, own data, closing the account, partner cities."""

from django.contrib.auth import authenticate
from django.utils.translation import get_language
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from core.api import error_responses
from core.auth import signed_in_user
from core.errors import NOT_FOUND, THROTTLED

from . import privacy, services, tokens
from .credit.selectors import cities_with_schemes
from .errors import INVALID_CREDENTIALS
from .legal import services as legal
from .security.services import clear_failures, client_ip, login_gate
from .serializers import (
    AcceptAgreementInput,
    AcceptanceOutput,
    AgreementOutput,
    CityOutput,
    CloseAccountInput,
    MeOutput,
    PersonDataOutput,
    ProfileOutput,
    RefreshInput,
    RegisterInput,
    SmsCodeCheckInput,
    SmsCodeCheckOutput,
    SmsCodeInput,
    SmsCodeOutput,
    TokenInput,
    TokenPairOutput,
)
from .signups import services as signups
from .signups.models import SignupEvent
from .sms import services as sms
from .sms.models import SmsPurpose
from .staff_auth import services as staff_auth


class _Anonymous(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []


class SmsCodeView(_Anonymous):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "sms_code"

    @extend_schema(
        tags=["auth"],
        request=SmsCodeInput,
        responses={
            202: SmsCodeOutput,
            **error_responses(400, 413, 415, 429, 503, s429="throttled (detail.retry_after)"),
        },
        summary="Send a 6-digit code to a phone (register or login)",
    )
    def post(self, request: Request) -> Response:
        data = SmsCodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        signups.record(request, SignupEvent.Kind.SMS_CODE)
        sent = sms.send_code(**data.validated_data)
        return Response(SmsCodeOutput(sent).data, status=202)


class SmsCodeCheckView(_Anonymous):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "register"

    @extend_schema(
        tags=["auth"],
        request=SmsCodeCheckInput,
        responses={
            200: SmsCodeCheckOutput,
            **error_responses(400, 413, 415, 429, s400="invalid_request, invalid_sms_code"),
        },
        summary="Check a registration code without spending it (each check costs a try)",
    )
    def post(self, request: Request) -> Response:
        data = SmsCodeCheckInput(data=request.data)
        data.is_valid(raise_exception=True)
        left = sms.try_code(
            phone=data.validated_data["phone"],
            purpose=SmsPurpose.REGISTER,
            code=data.validated_data["sms_code"],
        )
        return Response(SmsCodeCheckOutput({"valid": True, "attempts_left": left}).data)


class RegisterView(_Anonymous):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "register"

    @extend_schema(
        tags=["auth"],
        request=RegisterInput,
        responses={
            201: ProfileOutput,
            **error_responses(
                400,
                403,
                409,
                413,
                415,
                429,
                503,
                s400="invalid_request, invalid_sms_code, agreement_required, unknown_city",
                s403="identity_mismatch",
                s409="already_registered",
            ),
        },
        summary="Register a resident (phone proven by SMS code, name checked, agreement accepted)",
    )
    def post(self, request: Request) -> Response:
        data = RegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        signups.record(request, SignupEvent.Kind.REGISTER, city_code=v["home_city"])
        user = services.register_resident(
            phone=v["phone"],
            sms_code=v["sms_code"],
            password=v["password"],
            real_name=v["real_name"],
            id_number=v["id_number"],
            home_city_code=v["home_city"],
            agreement_version=v.get("agreement_version") or None,
        )
        return Response(ProfileOutput(user).data, status=201)


class TokenView(_Anonymous):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth_token"

    @extend_schema(
        tags=["auth"],
        request=TokenInput,
        responses={
            200: TokenPairOutput,
            **error_responses(
                400,
                401,
                413,
                415,
                429,
                s400="invalid_request",
                s401="invalid_credentials (a wrong password; a wrong, expired or spent SMS "
                "code, with detail.attempts_left); staff accounts: otp_required, invalid_otp",
                s429="throttled (detail.retry_after): too many tries from this address, or "
                "this phone's password login is locked after 10 failures in 15 minutes",
            ),
        },
        summary="Log in with phone and password, or phone and SMS code",
    )
    def post(self, request: Request) -> Response:
        data = TokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        phone = data.validated_data["phone"]
        if "sms_code" in data.validated_data:
            by_code = services.login_with_sms_code(
                phone=phone, code=data.validated_data["sms_code"]
            )
            staff_auth.check_api_login(user=by_code, otp=data.validated_data.get("otp"))
            return Response(tokens.issue_tokens(by_code))
        retry = login_gate(phone, client_ip(request._request)).retry_after
        if retry:
            raise THROTTLED(retry_after=retry)
        user = authenticate(request._request, phone=phone, password=data.validated_data["password"])
        if user is None or not user.is_active:
            raise INVALID_CREDENTIALS()
        staff_auth.check_api_login(user=user, otp=data.validated_data.get("otp"))
        clear_failures(phone)
        return Response(tokens.issue_tokens(user))


class TokenRefreshView(_Anonymous):
    @extend_schema(
        tags=["auth"],
        request=RefreshInput,
        responses={
            200: TokenPairOutput,
            **error_responses(400, 401, 413, 415, s401="invalid_token"),
        },
        summary="Rotate: a new access and refresh token; the refresh token sent is spent",
    )
    def post(self, request: Request) -> Response:
        data = RefreshInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(tokens.rotate_refresh(data.validated_data["refresh"]))


class LogoutView(_Anonymous):
    @extend_schema(
        tags=["auth"],
        request=RefreshInput,
        responses={204: OpenApiResponse(description="The refresh token no longer works."),
                   **error_responses(400, 413, 415)},
        summary="Log out: revoke a refresh token",
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        data = RefreshInput(data=request.data)
        data.is_valid(raise_exception=True)
        tokens.revoke_refresh(data.validated_data["refresh"])
        return Response(status=204)


def _agreement_out(agreement) -> dict:
    english = (get_language() or "").startswith("en")
    return {
        "version": agreement.version,
        "title": agreement.title_en if english else agreement.title_zh,
        "body": agreement.body_en if english else agreement.body_zh,
        "published_at": agreement.published_at,
    }


class AgreementView(_Anonymous):
    @extend_schema(
        tags=["public"],
        responses={200: AgreementOutput, **error_responses(404)},
        summary="The current user agreement and privacy notice",
    )
    def get(self, request: Request) -> Response:
        agreement = legal.current_agreement()
        if agreement is None:
            raise NOT_FOUND()
        return Response(AgreementOutput(_agreement_out(agreement)).data)


class AcceptAgreementView(APIView):
    @extend_schema(
        tags=["auth"],
        request=AcceptAgreementInput,
        responses={
            201: AcceptanceOutput,
            **error_responses(400, 401, 413, 415, s400="invalid_request, agreement_required"),
        },
        summary="Accept the current user agreement (when /me says agreement_outdated)",
    )
    def post(self, request: Request) -> Response:
        data = AcceptAgreementInput(data=request.data)
        data.is_valid(raise_exception=True)
        acceptance = legal.accept_agreement(
            user=signed_in_user(request), version=data.validated_data["agreement_version"]
        )
        return Response(AcceptanceOutput(acceptance).data, status=201)


class MeView(APIView):
    @extend_schema(tags=["auth"], responses={200: MeOutput, **error_responses(401)})
    def get(self, request: Request) -> Response:
        return Response(MeOutput(request.user).data)

    @extend_schema(
        tags=["auth"],
        request=CloseAccountInput,
        responses={
            204: OpenApiResponse(description="The account is closed and the person erased."),
            **error_responses(400, 401, 413, 415, s400="invalid_request, invalid_credentials"),
        },
        summary="Close the account (PIPL art. 47): erase the person, keep anonymous figures",
    )
    def delete(self, request: Request) -> Response:
        data = CloseAccountInput(data=request.data)
        data.is_valid(raise_exception=True)
        privacy.close_account(
            user=signed_in_user(request), password=data.validated_data["password"]
        )
        return Response(status=204)


class MyDataView(APIView):
    @extend_schema(
        tags=["auth"],
        responses={200: PersonDataOutput, **error_responses(401)},
        summary="Everything held about me (PIPL art. 45)",
    )
    def get(self, request: Request) -> Response:
        return Response(privacy.person_data(signed_in_user(request)))


@extend_schema(tags=["public"], responses={200: CityOutput(many=True), **error_responses(400, 404)})
class CityListView(generics.ListAPIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    serializer_class = CityOutput
    queryset = cities_with_schemes().order_by("code")
