"""Two middlewares after Django's AuthenticationMiddleware and django-otp's OTPMiddleware.

StaffSessionMiddleware: a staff session ends after STAFF_SESSION_IDLE_SECONDS without a
request and STAFF_SESSION_MAX_SECONDS after its login (residents' sessions are untouched).

StaffSecondFactorMiddleware: a staff account that logged in with its password but has not
shown its second factor in this session is confined to the second-factor pages: admin and
dashboard pages redirect there, and everywhere else the request counts as anonymous. This
holds whichever view logged the person in (admin, dashboard, or any other).
"""

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from core import roles

from . import services, signals

# Write the "last seen" stamp at most this often (a session write per staff request
# otherwise); the idle limit is exact to this many seconds.
SEEN_GRANULARITY_SECONDS = 30


def _has_session(request: HttpRequest) -> bool:
    # No cookie, no session: nothing to load (API calls with bearer tokens stay free).
    return settings.SESSION_COOKIE_NAME in request.COOKIES


class StaffSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not _has_session(request):
            return self.get_response(request)
        key = request.session.session_key
        marker = signals.current_session_key.set(key)
        try:
            if settings.XINYOU_STAFF_SESSION_POLICY:
                self._apply(request)
            response = self.get_response(request)
        finally:
            signals.current_session_key.reset(marker)
        if key and request.session.session_key not in (None, key):
            # a new session id for the same session (a second factor shown, a password
            # changed): the record follows it
            services.session_key_cycled(old=key, new=request.session.session_key)
        return response

    def _apply(self, request: HttpRequest) -> None:
        user = request.user
        if not roles.is_staff_account(user):
            return
        session = request.session
        now = time.time()
        if services.session_expired(session, now):
            services.log.info("staff session ended", extra={"user_id": user.pk})
            logout(request)  # flushes the session; the request goes on as anonymous
            return
        session.setdefault(services.SESSION_STARTED, now)
        seen = session.get(services.SESSION_SEEN)
        if not isinstance(seen, (int, float)) or now - seen >= SEEN_GRANULARITY_SECONDS:
            session[services.SESSION_SEEN] = now
            session.set_expiry(settings.STAFF_SESSION_IDLE_SECONDS)


class StaffSecondFactorMiddleware:
    # Reachable before the second factor: its own pages and the ways out.
    OPEN_NAMES = ("admin:logout", "dashboard:logout")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not services.enforced() or not _has_session(request):
            return self.get_response(request)
        user = request.user
        if not user.is_authenticated or not services.needs_second_factor(user):
            return self.get_response(request)
        if getattr(user, "is_verified", lambda: False)():  # set by django-otp's OTPMiddleware
            return self.get_response(request)
        path = request.path_info
        if path.startswith(reverse("staff_auth:root")) or path.startswith(settings.STATIC_URL):
            return self.get_response(request)
        if path in {reverse(name) for name in self.OPEN_NAMES}:
            return self.get_response(request)
        if path.startswith(reverse("admin:index")) or path.startswith(reverse("dashboard:page")):
            step = "staff_auth:verify" if services.is_enrolled(user) else "staff_auth:setup"
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse(step)}?{query}")
        request.user = AnonymousUser()  # half signed in counts as not signed in elsewhere
        return self.get_response(request)
