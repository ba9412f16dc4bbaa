"""Risk signals for city staff (docs/api.md "Risk signals")."""

from django.utils.cache import add_never_cache_headers
from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import IsCityStaffOrSuperuser, error_responses
from core.auth import signed_in_user

from ..dashboard.api import resolve_scope
from ..dashboard.rollup import local_today
from . import selectors, services
from .models import RiskSignal
from .serializers import SignalOutput, SignalQuery, StateInput


class RiskSignalsView(GenericAPIView):
    permission_classes = [IsCityStaffOrSuperuser]
    serializer_class = SignalOutput
    queryset = RiskSignal.objects.none()

    @extend_schema(
        tags=["dashboard"],
        summary="Risk signals of my city or alliance (superusers: all, or one with `city=`)",
        description="Patterns found by the hourly risk task, newest day first, each with "
        "why it fired (`why`, in the request's language) and the rows behind it (`rows`). "
        "`date_from`/`date_to` bound the day the pattern was found on (default: the last "
        "30 days).",
        parameters=[SignalQuery],
        responses={
            200: SignalOutput(many=True),
            **error_responses(400, 401, 403, 404, s404="not_found (page)"),
        },
    )
    def get(self, request: Request) -> Response:
        query = SignalQuery(data=request.query_params, context={"today": local_today()})
        query.is_valid(raise_exception=True)
        data = query.validated_data
        user = signed_in_user(request)
        scope = resolve_scope(user, data)
        found = selectors.signals(
            user,
            state=data.get("state"),
            date_from=scope.date_from,
            date_to=scope.date_to,
            city=scope.city,
            cities=scope.cities,
        )
        page = self.paginate_queryset(found)
        response = self.get_paginated_response(self.get_serializer(page, many=True).data)
        add_never_cache_headers(response)
        return response


class RiskSignalStateView(APIView):
    permission_classes = [IsCityStaffOrSuperuser]

    @extend_schema(
        tags=["dashboard"],
        summary="Mark a risk signal looked at, dismiss it (with a reason) or escalate it",
        description="Escalating a signal about a resident's voucher (impossible travel) "
        "opens an incident on that voucher, decided like a merchant's report; an escalated "
        "signal stays escalated.",
        request=StateInput,
        responses={
            200: SignalOutput,
            **error_responses(
                400, 401, 403, 404, 415, s400="invalid_request (dismissed without a reason)"
            ),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        body = StateInput(data=request.data)
        body.is_valid(raise_exception=True)
        signal = services.change_state(
            actor=signed_in_user(request),
            signal_id=pk,
            state=body.validated_data["state"],
            reason=body.validated_data.get("reason", ""),
        )
        return Response(SignalOutput(signal).data)
