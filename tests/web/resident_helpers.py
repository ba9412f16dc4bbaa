"""Helpers of the resident screens' browser tests (issue 23): a resident with a standing
who has accepted the agreement, logged in by putting their tokens where the app keeps them,
and checks that every screen must pass."""

import re
from datetime import timedelta

from django.utils import timezone

from accounts.legal.models import AgreementAcceptance
from accounts.legal.services import current_agreement
from accounts.tokens import issue_tokens
from incentives import signing
from tests.accounts.conftest import current_version

CJK = re.compile(r"[\u4e00-\u9fff]")
PHONE_WIDTH = 390


def ready_resident(**kwargs):
    """A Hangzhou resident (钱江分 812, excellent) with consent, standing and the agreement."""
    from tests.incentives.conftest import make_resident

    resident = make_resident(score=kwargs.pop("score", 812), **kwargs)
    current_version()
    agreement = current_agreement()
    if agreement is not None:
        AgreementAcceptance.objects.create(user=resident, agreement=agreement)
    return resident


def open_as(
    page,
    base: str,
    resident,
    hash_: str = "#/credit",
    *,
    lang: str = "zh-hans",
    large: bool = False,
) -> None:
    """Open the app at `hash_` logged in as `resident`, in `lang`, large text or not."""
    page.goto(f"{base}/m/#/login")
    page.evaluate(
        """([tokens, lang, large]) => {
            localStorage.setItem("xinyou.resident.tokens", JSON.stringify(tokens));
            localStorage.setItem("xinyou.lang", lang);
            if (large) localStorage.setItem("xinyou.largeText", "1");
            else localStorage.removeItem("xinyou.largeText");
        }""",
        [issue_tokens(resident), lang, large],
    )
    page.goto(f"{base}/m/{hash_}")
    page.reload()


def settle(page) -> None:
    """Wait until the screen has loaded (no spinner left)."""
    page.locator("#view .screen").first.wait_for()
    page.locator("#view .loading").first.wait_for(state="hidden")
    page.wait_for_timeout(100)


def overflow(page) -> int:
    """How far the page is wider than the phone (0: it fits 390 px)."""
    return page.evaluate("document.scrollingElement.scrollWidth") - PHONE_WIDTH


def pass_token(resident) -> str:
    return signing.sign_pass(
        resident_id=resident.pk, expires_at=timezone.now() + timedelta(minutes=5)
    )


def boxes_overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )
