"""The notices API: the inbox (paginated, unread filter, the reader's language), marking
read ({ids} or {all: true} → {unread}), the SMS choices; residents only, own notices only."""

import pytest

from accounts.notices.models import Notice, NoticeKind, NoticeSettings
from accounts.notices.services import notify
from tests.factories import StaffFactory

from .conftest import client_for, make_resident

pytestmark = pytest.mark.django_db

LIST = "/api/v1/me/notices"
READ = "/api/v1/me/notices/read"
SETTINGS = "/api/v1/me/notice-settings"


def tell(resident, n: int) -> list[int | None]:
    return [
        notify(
            kind=NoticeKind.SUSPENSION_ENDED,
            resident_id=resident.pk,
            event=str(i),
            params={"scenario": {"zh-hans": "信易游", "en": "Travel"}},
            link="#/pass",
        )
        for i in range(n)
    ]


def test_the_inbox_is_paginated_newest_first_with_an_unread_filter(resident):
    ids = tell(resident, 3)
    api = client_for(resident)
    page = api.get(f"{LIST}?page_size=2").json()
    assert page["count"] == 3 and page["next"]
    assert [n["id"] for n in page["results"]] == ids[::-1][:2]
    first = page["results"][0]
    assert set(first) == {"id", "kind", "title", "body", "created_at", "read_at", "link"}
    assert first["kind"] == "suspension_ended" and first["read_at"] is None
    assert first["title"] == "暂停期已结束" and "信易游" in first["body"]
    assert first["link"] == "#/pass"

    res = api.post(READ, {"ids": [ids[0]]}, format="json")
    assert res.status_code == 200 and res.json() == {"unread": 2}
    unread = api.get(f"{LIST}?unread=true").json()
    assert [n["id"] for n in unread["results"]] == ids[:0:-1]
    assert api.get(f"{LIST}?unread=false").json()["count"] == 3
    assert api.post(READ, {"all": True}, format="json").json() == {"unread": 0}
    assert api.get(f"{LIST}?unread=true").json()["count"] == 0


def test_the_inbox_speaks_the_readers_language(resident):
    tell(resident, 1)
    en = client_for(resident).get(LIST, HTTP_ACCEPT_LANGUAGE="en").json()["results"][0]
    assert en["title"] == "Your suspension has ended" and "Travel" in en["body"]
    # and that language is kept for the resident's SMS
    assert NoticeSettings.objects.get(resident=resident).language == "en"


def test_nobody_reads_or_marks_another_residents_notices(resident, world):
    other = make_resident()
    [theirs] = tell(other, 1)
    api = client_for(resident)
    assert api.get(LIST).json()["count"] == 0
    assert api.post(READ, {"ids": [theirs]}, format="json").json() == {"unread": 0}
    assert api.post(READ, {"all": True}, format="json").status_code == 200
    assert Notice.objects.get(pk=theirs).read_at is None


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"ids": "1"},
        {"ids": [0]},
        {"ids": ["x"]},
        {"all": False},
        {"all": 1},
        {"all": "true"},
        {"ids": [], "all": 0},
        {"ids": list(range(1, 102))},
    ],
)
def test_a_malformed_read_request_is_400(resident, body):
    res = client_for(resident).post(READ, body, format="json")
    assert res.status_code == 400 and res.json()["error"]["code"] == "invalid_request"


def test_an_unknown_filter_value_is_400(resident):
    res = client_for(resident).get(f"{LIST}?unread=maybe")
    assert res.status_code == 400 and res.json()["error"]["code"] == "invalid_request"


def test_sms_choices_per_kind(resident):
    api = client_for(resident)
    every = api.get(SETTINGS).json()
    assert every == {"sms": dict.fromkeys(NoticeKind.values, True)}
    res = api.put(SETTINGS, {"sms": {"voucher_expiring": False}}, format="json")
    assert res.status_code == 200
    assert res.json()["sms"] == {**every["sms"], "voucher_expiring": False}
    res = api.put(SETTINGS, {"sms": {"tier_changed": False}}, format="json")
    assert res.json()["sms"]["voucher_expiring"] is False  # the others stay as they were
    assert api.get(SETTINGS).json() == res.json()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"sms": {"nonsense": True}},
        {"sms": {"tier_changed": "perhaps"}},
        {"sms": {"tier_changed": 0}},
        {"sms": []},
    ],
)
def test_malformed_settings_are_400(resident, body):
    res = client_for(resident).put(SETTINGS, body, format="json")
    assert res.status_code == 400 and res.json()["error"]["code"] == "invalid_request"


@pytest.mark.parametrize("path", [LIST, SETTINGS])
def test_only_residents(world, api_client, path):
    assert api_client.get(path).status_code == 401
    staff = StaffFactory(staff_city_id="330100")
    res = client_for(staff).get(path)
    assert res.status_code == 403 and res.json()["error"]["code"] == "permission_denied"


def test_the_inbox_reads_in_a_fixed_number_of_queries(resident, django_assert_num_queries):
    api = client_for(resident)
    tell(resident, 2)
    # the caller, the count, the page (and the language kept: one upsert)
    with django_assert_num_queries(3):
        api.get(LIST)
    tell(resident, 30)
    with django_assert_num_queries(4):
        api.get(f"{LIST}?page_size=50", HTTP_ACCEPT_LANGUAGE="en")


def test_my_data_lists_the_inbox_and_the_choices(resident):
    tell(resident, 1)
    client_for(resident).put(SETTINGS, {"sms": {"tier_changed": False}}, format="json")
    data = client_for(resident).get("/api/v1/me/data").json()["notices"]
    [notice] = data["inbox"]
    assert notice["kind"] == "suspension_ended" and "暂停期已结束" in notice["text"]
    assert data["sms"]["tier_changed"] is False and data["sms"]["voucher_expiring"] is True
