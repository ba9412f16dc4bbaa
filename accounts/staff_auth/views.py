"""The second-factor pages: enrol an authenticator on the first login (QR code and the
secret as text, then a code from the app; the recovery codes are shown once), verify at
each login (an authenticator code or a recovery code), make new recovery codes, and a
password login for staff who use only the scanner (to enrol).

Reached after a password login (admin, dashboard, or the login here): the session is
signed in but not verified, and StaffSecondFactorMiddleware sends it here.
"""

from base64 import b32encode

from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from rest_framework.throttling import SimpleRateThrottle

from core import roles
from core.auth import signed_in_user

from . import services
from .forms import CodeForm
from .qr import qr_data_url

LOGIN = "staff_auth:login"


def _next(request: HttpRequest) -> str:
    """Where to go once verified: `next` when it is a page of this site, else by role."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    user = signed_in_user(request)
    if user.is_staff:
        return reverse("admin:index")
    if roles.sees_city_dashboards(user):
        return reverse("dashboard:page")
    return reverse("web:scanner")


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    context.setdefault("next", request.POST.get("next") or request.GET.get("next") or "")
    response = render(request, f"staff_auth/{template}", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@login_required(login_url=LOGIN)
def root(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if not services.is_enrolled(user):
        return HttpResponseRedirect(reverse("staff_auth:setup"))
    return HttpResponseRedirect(reverse("staff_auth:verify"))


@never_cache
@require_http_methods(["GET", "POST"])
@login_required(login_url=LOGIN)
def verify(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if not services.is_enrolled(user):
        return HttpResponseRedirect(reverse("staff_auth:setup"))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = services.verify_second_factor(user=user, token=form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            request.session.cycle_key()  # a new session id once fully signed in
            return HttpResponseRedirect(_next(request))
        form.add_error("code", ValidationError(_("验证码不正确或已使用，请重试。"), code="invalid"))
    return _page(request, "verify.html", {"form": form}, status=400 if form.errors else 200)


@never_cache
@require_http_methods(["GET", "POST"])
@login_required(login_url=LOGIN)
def setup(request: HttpRequest) -> HttpResponse:
    """Enrol: only while the account has no authenticator (a reset by a superuser removes
    it); a verified session changes its authenticator here too."""
    user = signed_in_user(request)
    verified = bool(getattr(user, "is_verified", lambda: False)())
    if services.is_enrolled(user) and not verified:
        return HttpResponseRedirect(reverse("staff_auth:verify"))
    device = services.pending_totp_device(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = services.confirm_enrolment(user=user, token=form.cleaned_data["code"])
        if done is not None:
            confirmed, codes = done
            otp_login(request, confirmed)
            request.session.cycle_key()
            return _page(request, "codes.html", {"codes": codes, "continue_to": _next(request)})
        form.add_error(
            "code", ValidationError(_("验证码不正确，请核对手机上的时间后重试。"), code="invalid")
        )
    secret = b32encode(device.bin_key).decode()
    context = {
        "form": form,
        "qr": qr_data_url(device.config_url),
        # groups of four, as authenticator apps show and ask for them
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "account": user.phone,
    }
    return _page(request, "setup.html", context, status=400 if form.errors else 200)


@never_cache
@require_http_methods(["GET", "POST"])
@login_required(login_url=LOGIN)
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes (the old ones stop working), for a verified session."""
    user = signed_in_user(request)
    if not getattr(user, "is_verified", lambda: False)():
        return HttpResponseRedirect(reverse("staff_auth:verify"))
    if request.method == "POST":
        codes = services.new_recovery_codes(user=user)
        return _page(request, "codes.html", {"codes": codes, "continue_to": _next(request)})
    left = services.recovery_codes_left(user)
    return _page(request, "new_codes.html", {"left": left})


class StaffLoginForm(AuthenticationForm):
    """Password step for any staff account (scanner staff without admin access enrol
    here); residents cannot log in here."""

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if not roles.is_staff_account(user):
            raise ValidationError(_("仅供工作人员登录。"), code="not_staff")


class _LoginThrottle(SimpleRateThrottle):
    """The API login's per-address limit (THROTTLE_AUTH_TOKEN), on the same counter: a
    password tried here counts like one tried at POST /api/v1/auth/token."""

    scope = "auth_token"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class StaffLoginView(LoginView):
    template_name = "staff_auth/login.html"
    authentication_form = StaffLoginForm
    next_page = reverse_lazy("staff_auth:root")  # type: ignore[assignment]

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        throttle = _LoginThrottle()
        # DRF's throttle reads only request.META (the client address) and no view
        if not throttle.allow_request(request, None):  # type: ignore[arg-type]
            wait = int(throttle.wait() or 60)
            context = {"throttled": max(1, -(-wait // 60)), "form": self.get_form_class()()}
            response = _page(request, "login.html", context, status=429)
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)
