"""Accounts API: register, tokens, own profile, partner cities."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from core.api import error_responses

from . import services
from .credit.selectors import cities_with_schemes
from .errors import INVALID_CREDENTIALS, INVALID_TOKEN
from .serializers import (
    AccessOutput,
    CityOutput,
    MeOutput,
    ProfileOutput,
    RefreshInput,
    RegisterInput,
    TokenInput,
    TokenPairOutput,
)


class RegisterView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "register"

    @extend_schema(
        tags=["auth"],
        request=RegisterInput,
        responses={
            201: ProfileOutput,
            **error_responses(
                400,
                409,
                413,
                415,
                429,
                s400="invalid_request, unknown_city",
                s409="already_registered",
            ),
        },
        summary="Register a resident",
    )
    def post(self, request: Request) -> Response:
        data = RegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.register_resident(
            phone=data.validated_data["phone"],
            password=data.validated_data["password"],
            real_name=data.validated_data["real_name"],
            id_number=data.validated_data["id_number"],
            home_city_code=data.validated_data["home_city"],
        )
        return Response(ProfileOutput(user).data, status=201)


class TokenView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth_token"

    @extend_schema(
        tags=["auth"],
        request=TokenInput,
        responses={
            200: TokenPairOutput,
            **error_responses(400, 401, 415, 429, s401="invalid_credentials"),
        },
        summary="Log in with phone and password",
    )
    def post(self, request: Request) -> Response:
        data = TokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request, phone=data.validated_data["phone"], password=data.validated_data["password"]
        )
        if user is None or not user.is_active:
            raise INVALID_CREDENTIALS()
        refresh = RefreshToken.for_user(user)
        return Response({"access": str(refresh.access_token), "refresh": str(refresh)})


class TokenRefreshView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []

    @extend_schema(
        tags=["auth"],
        request=RefreshInput,
        responses={200: AccessOutput, **error_responses(400, 401, 415, s401="invalid_token")},
        summary="Get a new access token",
    )
    def post(self, request: Request) -> Response:
        data = RefreshInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            refresh = RefreshToken(data.validated_data["refresh"])
        except TokenError:
            raise INVALID_TOKEN() from None
        return Response({"access": str(refresh.access_token)})


class MeView(APIView):
    @extend_schema(tags=["auth"], responses={200: MeOutput, **error_responses(401)})
    def get(self, request: Request) -> Response:
        return Response(MeOutput(request.user).data)


@extend_schema(tags=["public"], responses={200: CityOutput(many=True), **error_responses(400, 404)})
class CityListView(generics.ListAPIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    serializer_class = CityOutput
    queryset = cities_with_schemes().order_by("code")
