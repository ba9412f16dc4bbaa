"""JWT pairs carrying verified claims, so hot paths need no statement to learn who calls.

The access token (10 minutes by default) carries the user's `role`; the gate's views
(`core.auth.ClaimsJWTAuthentication`) take the caller from the token alone. Revocation is
not weakened: the redemption statement itself re-checks, in the same round trip, that the
caller is an active user on the staff of an active merchant, so a deactivated clerk or a
suspended merchant is refused at once; a changed role is seen at the latest when the
access token expires (ACCESS_TOKEN_LIFETIME), and a closed account's refresh is refused
by the refresh view.
"""

from rest_framework_simplejwt.tokens import RefreshToken


def tokens_for(user) -> RefreshToken:
    """A refresh token (and through it the access token) with the user's role as a claim."""
    refresh = RefreshToken.for_user(user)
    refresh["role"] = user.role
    return refresh
