"""Authentication for hot paths: the caller from the verified JWT claims, no statement."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.models import TokenUser


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
