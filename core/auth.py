"""Authentication: the caller from the verified JWT claims on hot paths (no statement), and
the signed-in caller of any other view."""

from typing import TYPE_CHECKING, cast

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.models import TokenUser

if TYPE_CHECKING:
    from accounts.models import User


class ClaimsJWTAuthentication(JWTAuthentication):
    """Stateless when the access token carries the `role` claim (accounts.tokens): the user
    is a `TokenUser` (id and claims), and the view's statement checks what must be current
    (active user, staff of an active merchant). Tokens without the claim (issued before it
    existed) fall back to loading the user."""

    def get_user(self, validated_token):
        if "role" in validated_token and "user_id" in validated_token:
            return TokenUser(validated_token)
        return super().get_user(validated_token)


class ClaimsJWTScheme(SimpleJWTScheme):
    """The same bearer JWT as the other views (its own name: spectacular wants one class per
    security scheme)."""

    target_class = "core.auth.ClaimsJWTAuthentication"
    name = "jwtClaimsAuth"


def signed_in_user(request: HttpRequest | Request) -> "User":
    """The caller of a view that lets only signed-in users through (its permission classes,
    or the admin site's own check): the `User`, never the anonymous one. For the type
    checker; an anonymous caller here is a programming error, not a client's."""
    user = request.user
    assert isinstance(user, get_user_model()), "view reached without a signed-in user"
    return user


def claims_user_id(request: Request) -> int:
    """The caller's id on a view authenticated by `ClaimsJWTAuthentication`, without a
    statement: a `TokenUser`'s `user_id` claim or, for a token without the role claim, the
    loaded `User`'s id. Not converted: simplejwt writes the claim as the id's digits, which
    the hot paths' prepared statements take as an untyped parameter (core.db) as they take
    an int; the cast says what it stands for."""
    user: object = request.user  # the stubs know only Django's own user types
    assert isinstance(user, TokenUser | get_user_model()), "view reached without a caller"
    return cast(int, user.pk)
