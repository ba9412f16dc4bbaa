"""Incidents: report → confirm (suspension) → objection → uphold or overturn, scoped to
the merchant's city, every step audited; the resident sees it all."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from incentives.incidents.services import decide_incident
from incentives.models import Incident, IncidentEvent
from merchants.models import Offer
from tests.factories import PASSWORD
from tests.merchants.factories import city_staff

from .conftest import client_for, make_resident, publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def lane(merchant):
    return publish(
        merchant=merchant,
        kind=Offer.Kind.ENTITLEMENT,
        scenario="stay",
        category="hotel",
        benefit_type="deposit_waiver",
        benefit_value=None,
        min_tier="",
        limit_per_period=5,
        period="day",
    )


def use_lane(resident, clerk, offer) -> int:
    token = client_for(resident).get("/api/v1/me/credit/pass").json()["token"]
    res = client_for(clerk).post(
        "/api/v1/merchant/pass-checks", {"token": token, "offer_id": offer.pk}, format="json"
    )
    assert res.status_code == 201, res.content
    return res.json()["id"]


def report(clerk, **body):
    return client_for(clerk).post("/api/v1/merchant/incidents", body, format="json")


def test_the_whole_loop_report_confirm_object_overturn(resident, merchant, clerk, lane):
    hotel_voucher_offer = publish(merchant=merchant, min_tier="", category="hotel", scenario="stay")
    use_id = use_lane(resident, clerk, lane)
    res = report(clerk, use_id=use_id, kind="deposit_default", note="押金未结清")
    assert res.status_code == 201 and res.json()["status"] == "reported"
    incident_id = res.json()["id"]
    mine = client_for(resident)
    listed = mine.get("/api/v1/me/incidents").json()["results"]
    assert [(i["id"], i["status"], i["suspended_until"]) for i in listed] == [
        (incident_id, "reported", None)
    ]
    # a report alone suspends nothing
    assert use_lane(resident, clerk, lane)

    reviewer = city_staff("330100")
    before = timezone.now()
    decide_incident(actor=reviewer, incident_id=incident_id, action="confirm", note="核实")
    shown = mine.get("/api/v1/me/incidents").json()["results"][0]
    assert shown["status"] == "confirmed" and shown["may_object"] is True
    until = timezone.datetime.fromisoformat(shown["suspended_until"])
    assert before + timedelta(days=90) <= until <= timezone.now() + timedelta(days=90)
    # suspended from the scenario: entitlements and vouchers alike, with the reason
    token = mine.get("/api/v1/me/credit/pass").json()["token"]
    refused = client_for(clerk).post(
        "/api/v1/merchant/pass-checks", {"token": token, "offer_id": lane.pk}, format="json"
    )
    assert refused.json()["error"]["detail"]["reasons"] == ["suspended"]
    offer = mine.get(f"/api/v1/offers/{hotel_voucher_offer.pk}").json()
    assert offer["eligibility"] == {"eligible": False, "reasons": ["suspended"]}
    claim = mine.post(f"/api/v1/offers/{hotel_voucher_offer.pk}/claim")
    assert claim.json()["error"]["detail"]["reasons"] == ["suspended"]

    res = mine.post(
        f"/api/v1/me/incidents/{incident_id}/objection", {"text": "已付清"}, format="json"
    )
    assert res.status_code == 201 and res.json()["status"] == "objected"
    again = mine.post(
        f"/api/v1/me/incidents/{incident_id}/objection", {"text": "再次"}, format="json"
    )
    assert (again.status_code, again.json()["error"]["code"]) == (409, "objection_exists")
    # still suspended while the objection is pending
    assert (
        mine.get(f"/api/v1/offers/{hotel_voucher_offer.pk}").json()["eligibility"]["eligible"]
        is False
    )

    decide_incident(actor=reviewer, incident_id=incident_id, action="overturn", note="凭证属实")
    shown = mine.get("/api/v1/me/incidents").json()["results"][0]
    assert (shown["status"], shown["suspended_until"]) == ("overturned", None)
    assert mine.get(f"/api/v1/offers/{hotel_voucher_offer.pk}").json()["eligibility"] == {
        "eligible": True,
        "reasons": [],
    }
    assert use_lane(resident, clerk, lane)

    steps = list(IncidentEvent.objects.filter(incident_id=incident_id).order_by("at", "id"))
    assert [(e.action, e.from_status, e.to_status) for e in steps] == [
        ("report", "", "reported"),
        ("confirm", "reported", "confirmed"),
        ("object", "confirmed", "objected"),
        ("overturn", "objected", "overturned"),
    ]
    assert [e.actor_id for e in steps] == [clerk.pk, reviewer.pk, resident.pk, reviewer.pk]
    assert all(e.at for e in steps) and steps[1].note == "核实"


def test_upholding_keeps_the_suspension_and_dismissing_never_starts_one(
    resident, merchant, clerk, lane, settings
):
    settings.INCIDENT_SUSPENSION_DAYS = {"stay": 30}
    reviewer = city_staff("330100")
    first = report(clerk, use_id=use_lane(resident, clerk, lane), kind="damage").json()["id"]
    decide_incident(actor=reviewer, incident_id=first, action="confirm")
    client_for(resident).post(
        f"/api/v1/me/incidents/{first}/objection", {"text": "不是我"}, format="json"
    )
    decide_incident(actor=reviewer, incident_id=first, action="uphold")
    incident = Incident.objects.get(pk=first)
    assert incident.status == "upheld"
    assert incident.suspended_until - incident.decided_at < timedelta(days=31)

    other = make_resident()
    second = report(clerk, use_id=use_lane(other, clerk, lane), kind="no_show").json()["id"]
    decide_incident(actor=reviewer, incident_id=second, action="dismiss")
    assert Incident.objects.get(pk=second).suspended_until is None
    assert use_lane(other, clerk, lane)
    res = client_for(other).post(
        f"/api/v1/me/incidents/{second}/objection", {"text": "x"}, format="json"
    )
    assert (res.status_code, res.json()["error"]["code"]) == (409, "incident_not_pending")


def test_a_decision_is_made_once(resident, merchant, clerk, lane):
    from core.errors import DomainError

    reviewer = city_staff("330100")
    incident = report(clerk, use_id=use_lane(resident, clerk, lane), kind="other").json()["id"]
    decide_incident(actor=reviewer, incident_id=incident, action="confirm")
    with pytest.raises(DomainError) as caught:
        decide_incident(actor=reviewer, incident_id=incident, action="dismiss")
    assert caught.value.code == "incident_not_pending"


def test_only_the_merchants_city_decides(resident, merchant, clerk, lane):
    from core.errors import DomainError

    incident = report(clerk, use_id=use_lane(resident, clerk, lane), kind="other").json()["id"]
    with pytest.raises(DomainError) as caught:
        decide_incident(actor=city_staff("460100"), incident_id=incident, action="confirm")
    assert caught.value.code == "not_found"
    assert Incident.objects.get(pk=incident).status == "reported"


def test_staff_of_another_city_cannot_uphold_or_overturn(resident, merchant, clerk, lane):
    from core.errors import DomainError

    incident = report(clerk, use_id=use_lane(resident, clerk, lane), kind="other").json()["id"]
    decide_incident(actor=city_staff("330100"), incident_id=incident, action="confirm")
    client_for(resident).post(
        f"/api/v1/me/incidents/{incident}/objection", {"text": "不是我"}, format="json"
    )
    outsider = city_staff("460100")
    for action in ("uphold", "overturn"):
        with pytest.raises(DomainError) as caught:
            decide_incident(actor=outsider, incident_id=incident, action=action)
        assert caught.value.code == "not_found"
    assert Incident.objects.get(pk=incident).status == "objected"
    assert not IncidentEvent.objects.filter(incident_id=incident, actor=outsider).exists()


def test_a_deactivated_reviewer_of_the_city_decides_nothing(resident, merchant, clerk, lane):
    """core.roles decides who is city staff: an inactive account is nobody's reviewer."""
    from core.errors import DomainError

    incident = report(clerk, use_id=use_lane(resident, clerk, lane), kind="other").json()["id"]
    reviewer = city_staff("330100")
    reviewer.is_active = False
    reviewer.save(update_fields=["is_active"])
    with pytest.raises(DomainError) as caught:
        decide_incident(actor=reviewer, incident_id=incident, action="confirm")
    assert caught.value.code == "not_found"
    assert Incident.objects.get(pk=incident).status == "reported"


def test_the_admin_action_of_another_citys_staff_decides_nothing(resident, merchant, clerk, lane):
    incident = report(clerk, use_id=use_lane(resident, clerk, lane), kind="other").json()["id"]
    outsider = Client()
    assert outsider.login(phone=city_staff("460100").phone, password=PASSWORD)
    for action in ("confirm_selected", "dismiss_selected"):
        outsider.post(
            "/admin/incentives/incident/",
            {"action": action, "_selected_action": [incident], "apply": "1", "note": "越权"},
        )
    assert Incident.objects.get(pk=incident).status == "reported"
    assert list(IncidentEvent.objects.filter(incident_id=incident).values_list("action")) == [
        ("report",)
    ]


def test_reports_only_on_own_uses_and_vouchers(resident, merchant, clerk, other_clerk, lane):
    use_id = use_lane(resident, clerk, lane)
    res = report(other_clerk, use_id=use_id, kind="other")
    assert (res.status_code, res.json()["error"]["code"]) == (404, "not_found")
    voucher_offer = publish(merchant=merchant, min_tier="")
    code = client_for(resident).post(f"/api/v1/offers/{voucher_offer.pk}/claim").json()["code"]
    assert report(other_clerk, voucher_code=code, kind="no_show").status_code == 404
    res = report(clerk, voucher_code=code, kind="no_show", note="未到")
    assert res.status_code == 201
    assert Incident.objects.get(pk=res.json()["id"]).scenario == voucher_offer.scenario
    assert report(clerk, kind="other").status_code == 400
    assert report(clerk, use_id=use_id, voucher_code=code, kind="other").status_code == 400
    assert not Incident.objects.filter(use_id=use_id).exists()


def test_a_resident_objects_only_to_their_own(resident, merchant, clerk, lane):
    incident = report(clerk, use_id=use_lane(resident, clerk, lane), kind="other").json()["id"]
    stranger = make_resident()
    res = client_for(stranger).post(
        f"/api/v1/me/incidents/{incident}/objection", {"text": "x"}, format="json"
    )
    assert res.status_code == 404


def test_the_admin_queue_shows_the_city_its_incidents_and_decides(resident, merchant, clerk, lane):
    incident = report(clerk, use_id=use_lane(resident, clerk, lane), kind="deposit_default")
    incident_id = incident.json()["id"]
    reviewer = city_staff("330100")
    browser = Client()
    assert browser.login(phone=reviewer.phone, password=PASSWORD)
    page = browser.get("/admin/incentives/incident/")
    assert page.status_code == 200
    text = page.content.decode()
    assert resident.id_masked in text and resident.real_name not in text
    detail = browser.get(f"/admin/incentives/incident/{incident_id}/change/")
    assert detail.status_code == 200
    res = browser.post(
        "/admin/incentives/incident/",
        {
            "action": "confirm_selected",
            "_selected_action": [incident_id],
            "apply": "1",
            "note": "已核实",
        },
    )
    assert res.status_code == 302
    assert Incident.objects.get(pk=incident_id).status == "confirmed"
    outsider = city_staff("460100")
    other = Client()
    assert other.login(phone=outsider.phone, password=PASSWORD)
    assert other.get(f"/admin/incentives/incident/{incident_id}/change/").status_code == 404


def test_my_data_holds_my_entitlement_uses_and_incidents(resident, clerk, lane):
    use_id = use_lane(resident, clerk, lane)
    incident_id = report(clerk, use_id=use_id, kind="no_show", note="未到店").json()["id"]
    data = client_for(resident).get("/api/v1/me/data").json()
    assert [u["id"] for u in data["entitlement_uses"]] == [use_id]
    assert [(i["id"], i["status"]) for i in data["incidents"]] == [(incident_id, "reported")]
