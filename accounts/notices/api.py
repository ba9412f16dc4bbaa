"""The resident's notices: the inbox, marking read, the SMS choices (docs/api.md)."""

from django.conf import settings
from django.utils.translation import get_language
from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import IsResident, error_responses
from core.auth import signed_in_user

from . import services
from .models import Notice
from .serializers import (
    MarkReadInput,
    NoticeListQuery,
    NoticeOutput,
    NoticeSettingsInput,
    NoticeSettingsOutput,
    UnreadOutput,
)


def _remember_language(request: Request) -> None:
    # the language the resident reads the app in is the language of their SMS
    if request.headers.get("Accept-Language") or request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME):
        services.remember_language(
            resident_id=signed_in_user(request).pk, language=get_language() or ""
        )


class NoticeListView(GenericAPIView):
    permission_classes = [IsResident]
    serializer_class = NoticeOutput
    queryset = Notice.objects.none()

    @extend_schema(
        tags=["notices"],
        summary="My notices (消息), newest first",
        parameters=[NoticeListQuery],
        responses={
            200: NoticeOutput(many=True),
            **error_responses(400, 401, 403, 404, s404="not_found (page out of range)"),
        },
    )
    def get(self, request: Request) -> Response:
        query = NoticeListQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        _remember_language(request)
        rows = services.inbox(
            resident=signed_in_user(request), unread=query.validated_data.get("unread", False)
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class MarkReadView(APIView):
    permission_classes = [IsResident]

    @extend_schema(
        tags=["notices"],
        summary="Mark notices read: {ids: [...]} or {all: true}",
        request=MarkReadInput,
        responses={200: UnreadOutput, **error_responses(400, 401, 403, 413, 415)},
    )
    def post(self, request: Request) -> Response:
        data = MarkReadInput(data=request.data)
        data.is_valid(raise_exception=True)
        unread = services.mark_read(
            resident=signed_in_user(request),
            ids=data.validated_data.get("ids", []),
            all=bool(data.validated_data.get("all")),
        )
        return Response({"unread": unread})


class NoticeSettingsView(APIView):
    permission_classes = [IsResident]

    @extend_schema(
        tags=["notices"],
        summary="Which notice kinds also go by SMS",
        responses={200: NoticeSettingsOutput, **error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        _remember_language(request)
        return Response({"sms": services.notice_settings(resident=signed_in_user(request))})

    @extend_schema(
        tags=["notices"],
        summary="Choose which notice kinds also go by SMS (the inbox gets them all)",
        request=NoticeSettingsInput,
        responses={200: NoticeSettingsOutput, **error_responses(400, 401, 403, 413, 415)},
    )
    def put(self, request: Request) -> Response:
        data = NoticeSettingsInput(data=request.data)
        data.is_valid(raise_exception=True)
        _remember_language(request)
        sms = services.set_notice_settings(
            resident=signed_in_user(request), sms=data.validated_data["sms"]
        )
        return Response({"sms": sms})
