"""Offers API: published offers with the resident's eligibility (list and detail), and a
merchant's own published offers (docs/api.md)."""

from types import SimpleNamespace
from typing import Any

from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt.authentication import JWTAuthentication

from core import roles
from core.api import IsMerchantStaff, Pagination, error_responses
from core.auth import signed_in_user
from core.errors import NOT_FOUND
from core.replica import ReplicaReadsMixin
from merchants.api import OfferFilter
from merchants.models import Offer
from merchants.selectors import published_offers

from ..vouchers.services import merchant_of
from . import selectors
from .serializers import MatchedOfferOutput, MerchantOfferQuery, OfferQuery, offer_payload


def _is_resident(request: Request) -> bool:
    return roles.is_resident(request.user)


class _PublicOfferView(GenericAPIView):
    # Public, but a resident's token still identifies them (for their eligibility).
    authentication_classes = [JWTAuthentication]
    permission_classes = [permissions.AllowAny]
    queryset = Offer.objects.none()  # for the schema; rows come from the selectors


class _MatchedOffersMixin(GenericAPIView):
    serializer_class = MatchedOfferOutput

    def resident_view(self, request: Request) -> selectors.ResidentView | None:
        if not hasattr(self, "_who"):
            self._who = (
                selectors.resident_view(signed_in_user(request)) if _is_resident(request) else None
            )
        return self._who

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        who = self.resident_view(self.request)
        if who is not None:
            context["eligibility"] = lambda offer: selectors.eligibility_of(offer, who)
        return context


@extend_schema(
    tags=["offers"],
    summary="Browse published offers (with the resident's eligibility)",
    parameters=[OfferQuery],
    responses={
        200: MatchedOfferOutput(many=True),
        **error_responses(
            400,
            401,
            403,
            404,
            s400="invalid_request (unknown filter value, bad page)",
            s403="permission_denied (eligible=true is for residents)",
            s404="not_found (page out of range)",
        ),
    },
)
class OfferListView(ReplicaReadsMixin, _MatchedOffersMixin, _PublicOfferView):
    def replica_for(self, request: Request) -> bool:
        # anonymous browsing may lag a little; a signed-in caller reads the primary
        return not request.user.is_authenticated

    filter_backends = [DjangoFilterBackend]  # documents the filters; parsing is in get()
    filterset_class = OfferFilter

    def get(self, request: Request) -> Response:
        filters = OfferFilter(request.query_params, queryset=published_offers(), request=request)
        query = OfferQuery(data=request.query_params.dict())
        if not filters.is_valid():
            raise translate_validation(filters.errors)
        query.is_valid(raise_exception=True)
        eligible_only = query.validated_data.get("eligible") is True
        who = self.resident_view(request)
        if who is None:
            if eligible_only:
                raise PermissionDenied()  # eligibility is a resident's own
            ranked = published_offers(**filters.selector_kwargs())
        else:
            ranked = selectors.matched_offers(
                resident=signed_in_user(request),
                who=who,
                eligible_only=eligible_only,
                near=query.validated_data.get("near"),
                **filters.selector_kwargs(),
            )
        # with eligible=true every flag is true: the database need not return them
        bare = who is None or eligible_only
        fields = ("pk",) if bare else ("pk", *selectors.ELIGIBILITY_FLAGS)
        paginator = self.paginator
        assert isinstance(paginator, Pagination)  # DEFAULT_PAGINATION_CLASS
        rows = paginator.paginate_rows(ranked, request, fields)
        page = selectors.offer_page(rows, all_eligible=who is not None and eligible_only)
        results = [
            offer_payload(
                row,
                page,
                None if who is None else selectors.eligibility_of(SimpleNamespace(**row), who),
            )
            for row in page.rows
        ]
        return self.get_paginated_response(results)


@extend_schema(
    tags=["offers"],
    summary="One published offer (with the resident's eligibility)",
    responses={200: MatchedOfferOutput, **error_responses(401, 404)},
)
class OfferDetailView(_MatchedOffersMixin, _PublicOfferView):
    def get(self, request: Request, pk: int) -> Response:
        who = self.resident_view(request)
        qs = published_offers()
        if who is not None:
            qs = selectors.annotate_eligibility(qs, who)
        offer = qs.filter(pk=pk).first()
        if offer is None:
            raise NOT_FOUND()
        return Response(self.get_serializer(offer).data)


class MerchantOffersView(GenericAPIView):
    permission_classes = [IsMerchantStaff]
    serializer_class = MatchedOfferOutput
    queryset = Offer.objects.none()

    @extend_schema(
        tags=["merchant"],
        summary="My merchant's published offers (kind=entitlement: what a pass can apply)",
        parameters=[MerchantOfferQuery],
        responses={
            200: MatchedOfferOutput(many=True),
            **error_responses(400, 401, 403, 404, s404="not_found (page out of range)"),
        },
    )
    def get(self, request: Request) -> Response:
        query = MerchantOfferQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        merchant_id = merchant_of(signed_in_user(request).pk)
        offers = selectors.merchant_offers(merchant_id=merchant_id, **query.validated_data)
        page = self.paginate_queryset(
            offers.prefetch_related("eligible_home_cities", "merchant__stations")
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
