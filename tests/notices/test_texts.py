"""No notice text, in any language, inbox or SMS, carries the resident's score, their ID
number (full or masked), their phone, or another person's data (the clerk's or the
reviewer's name, the clerk's note); each kind is rendered in the resident's language."""

import re

import pytest

from accounts.notices.models import NoticeKind
from accounts.notices.texts import render
from accounts.privacy import close_account
from merchants.models import MerchantStaff
from tests.factories import PASSWORD, StaffFactory

from .conftest import SCORE_ID, client_for, make_resident, outbox, story

pytestmark = pytest.mark.django_db


def test_no_text_names_a_score_an_id_or_another_person(
    world, merchant, django_capture_on_commit_callbacks
):
    person = make_resident(score=600, id_number=SCORE_ID, real_name="王小明")
    clerk = StaffFactory(role="merchant_staff", staff_city=None, real_name="赵店员")
    MerchantStaff.objects.create(user=clerk, merchant=merchant)
    reviewer = StaffFactory(role="city_staff", staff_city_id="330100", real_name="钱审核")
    with django_capture_on_commit_callbacks(execute=True):
        story(person, merchant, clerk, reviewer)
    phone = person.phone
    texts, seen = [], {NoticeKind.ACCOUNT_CLOSED.value}
    for language in ("zh-hans", "en"):
        page = client_for(person).get(
            "/api/v1/me/notices?page_size=100", HTTP_ACCEPT_LANGUAGE=language
        )
        texts += [n["title"] + " " + n["body"] for n in page.json()["results"]]
        seen |= {n["kind"] for n in page.json()["results"]}
    sms = outbox(phone)
    with django_capture_on_commit_callbacks(execute=True):
        close_account(user=person, password=PASSWORD)
    # the sandbox outbox was erased with the account; then the closing SMS went out, in
    # the language the resident last read the inbox in
    closing = outbox(phone)
    assert len(closing) == 1 and "account is closed" in closing[0]
    texts += sms + closing
    assert seen == set(NoticeKind.values)  # every kind is among the texts scanned
    assert len(texts) == 2 * 13 + 13 + 1  # 13 notices in two languages, their SMS, closing
    forbidden = [
        "812",  # the score the provider answered
        "600",  # the score on file before
        SCORE_ID,
        SCORE_ID[:4],  # the masked ID's visible ends
        SCORE_ID[-4:],
        phone,
        phone[-4:],
        "王小明",
        "赵店员",
        "钱审核",
        "赵某某",  # the clerk's note names a person
        "我当天到店了",  # the objection text
    ]
    for text in texts:
        found = [bad for bad in forbidden if bad in text]
        assert not found, (found, text)
        # no run of digits that could be part of an ID number or a phone
        assert not re.search(r"\d{5,}", text), text


def test_each_kind_reads_in_either_language():
    params = {
        "offer": {"zh-hans": "游船八折", "en": "Boat 20% off"},
        "expires_at": "2026-12-07T10:30:00+08:00",
        "merchant": "西湖游船",
        "incident": {"zh-hans": "预约未到", "en": "No-show"},
        "scenario": {"zh-hans": "信易游", "en": "Travel"},
        "until": "2027-03-06T10:30:00+08:00",
        "old": "good",
        "new": "excellent",
    }
    for kind in NoticeKind.values:
        zh = "".join(render(kind, params, "zh-hans"))
        en = "".join(render(kind, params, "en"))
        assert re.search(r"[\u4e00-\u9fff]", zh), kind
        assert zh != en and not re.search(r"[\u4e00-\u9fff]", en.replace("西湖游船", "")), (
            kind,
            en,
        )
    assert "12月7日 10:30" in "".join(render("voucher_expiring", params, "zh-hans"))
    assert "7 Dec 10:30" in "".join(render("voucher_expiring", params, "en"))
