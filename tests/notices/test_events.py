"""Every event is wired to its notice: a voucher about to lapse (the beat sweep), an
incident reported, confirmed or dismissed, an objection upheld or overturned, a
suspension that ended, a tier change at a refresh; each in the inbox, each once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.credit.services import PURPOSE_REFRESH, query_provider
from accounts.notices.models import Notice, NoticeKind
from incentives.notices import notify_ended_suspensions, notify_expiring_vouchers
from tests.merchants.factories import city_staff

from .conftest import SCORE_ID, client_for, kinds_of, make_resident, outbox, story

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(world):
    # on file as 600 (good); the provider answers 812 (excellent) at the next refresh
    return make_resident(score=600, id_number=SCORE_ID, real_name="王小明")


def test_every_event_gives_its_notice_once(
    person, merchant, clerk, django_capture_on_commit_callbacks
):
    reviewer = city_staff("330100")
    with django_capture_on_commit_callbacks(execute=True):
        ids = story(person, merchant, clerk, reviewer)
    assert sorted(kinds_of(person)) == sorted(
        [
            *[NoticeKind.VOUCHER_EXPIRING] * 3,  # the three vouchers lapse together
            *[NoticeKind.INCIDENT_REPORTED] * 3,
            *[NoticeKind.INCIDENT_DECIDED] * 3,
            *[NoticeKind.OBJECTION_DECIDED] * 2,
            NoticeKind.SUSPENSION_ENDED,
            NoticeKind.TIER_CHANGED,
        ]
    )
    notices = client_for(person).get("/api/v1/me/notices?page_size=100").json()["results"]
    body = {(n["kind"], n["title"]): n for n in notices}
    assert (NoticeKind.INCIDENT_DECIDED, "失信事件已确认") in body
    assert (NoticeKind.INCIDENT_DECIDED, "失信事件未被确认") in body
    assert (NoticeKind.OBJECTION_DECIDED, "您的异议未被采纳") in body
    assert (NoticeKind.OBJECTION_DECIDED, "您的异议成立") in body
    tier = body[(NoticeKind.TIER_CHANGED, "信用等级有变化")]
    assert "“良好”变为“优秀”" in tier["body"] and tier["link"] == "#/credit"
    expiring = [n for n in notices if n["kind"] == NoticeKind.VOUCHER_EXPIRING]
    assert sorted(n["body"].split("”")[0] for n in expiring) == [
        f"您领取的“西湖游船 {n}" for n in range(3)
    ]
    assert all(n["link"].startswith("#/wallet/") for n in expiring)
    events = dict(
        Notice.objects.filter(kind=NoticeKind.OBJECTION_DECIDED).values_list(
            "event", "params__outcome"
        )
    )
    assert events == {str(ids["upheld"]): "upheld", str(ids["overturned"]): "overturned"}
    # every notice also went by SMS (the settings allow every kind until changed)
    assert len(outbox(person.phone)) == Notice.objects.filter(resident=person).count()

    # nothing runs twice: the sweeps and the refresh again give nothing new
    count = Notice.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        far = timezone.now() + timedelta(days=200)
        notify_ended_suspensions(now=far)
        query_provider(resident_id=person.pk, purpose=PURPOSE_REFRESH, requested_by="refresh")
    assert Notice.objects.count() == count


def test_a_refresh_in_the_same_tier_tells_nothing(world, django_capture_on_commit_callbacks):
    person = make_resident(score=800, id_number=SCORE_ID)  # excellent already
    with django_capture_on_commit_callbacks(execute=True):
        query_provider(resident_id=person.pk, purpose=PURPOSE_REFRESH, requested_by="refresh")
    assert kinds_of(person) == []


def test_a_suspension_followed_by_another_is_not_ended(
    person, merchant, clerk, django_capture_on_commit_callbacks
):
    from incentives.models import Incident

    reviewer = city_staff("330100")
    with django_capture_on_commit_callbacks(execute=True):
        story(person, merchant, clerk, reviewer)
    upheld = Incident.objects.filter(status="upheld").get()
    # another confirmed incident of the same scenario runs longer
    Incident.objects.filter(pk=upheld.pk).update(
        suspended_until=upheld.suspended_until - timedelta(days=1)
    )
    Notice.objects.filter(kind=NoticeKind.SUSPENSION_ENDED).delete()
    longer = upheld.suspended_until + timedelta(days=5)
    Incident.objects.filter(status="confirmed").update(suspended_until=longer)
    Incident.objects.filter(status="dismissed").update(status="confirmed", suspended_until=longer)
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_ended_suspensions(now=upheld.suspended_until) == 0


def test_vouchers_beyond_a_day_or_closed_are_not_announced(
    resident, voucher, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_expiring_vouchers(now=voucher.expires_at - timedelta(hours=25)) == 0
        voucher.status = "redeemed"
        voucher.redeemed_at = timezone.now()
        voucher.save()
        assert notify_expiring_vouchers(now=voucher.expires_at - timedelta(hours=2)) == 0
    assert kinds_of(resident) == []


def test_the_beat_runs_the_sweeps_and_the_due_sms(resident, voucher, settings):
    """The three periodic jobs are in the beat schedule and run as real tasks (the
    embedded scheduler runs them in-process)."""
    from config.scheduler import Scheduler

    jobs = {
        "incentives.notify_expiring_vouchers",
        "incentives.notify_ended_suspensions",
        "accounts.send_due_notice_sms",
    }
    scheduler = Scheduler.from_beat_schedule(settings.CELERY_BEAT_SCHEDULE)
    scheduler.jobs = [job for job in scheduler.jobs if job.name in jobs]
    assert {job.name for job in scheduler.jobs} == jobs
    # the voucher lapses within the day: the expiry sweep finds it now
    type(voucher).objects.filter(pk=voucher.pk).update(
        expires_at=timezone.now() + timedelta(hours=3)
    )
    assert sorted(scheduler.run_due(now=0)) == sorted(jobs)
    assert kinds_of(resident) == [NoticeKind.VOUCHER_EXPIRING]
