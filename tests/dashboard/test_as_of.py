"""The dashboards say when their figures were made, and the embedded default's own
scheduler keeps them moving (no Celery beat under `make run`)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.scheduler import Job, Scheduler, enabled
from incentives.dashboard.rollup import rebuild_rollups
from incentives.models import RollupRefresh
from tests.conftest import bearer

from . import factories as f

pytestmark = pytest.mark.django_db

REFRESH = "incentives.refresh_dashboard_rollups"


def summary(api_client, user) -> dict:
    response = api_client.get("/api/v1/dashboard/summary", **bearer(user))
    assert response.status_code == 200
    return response.json()


def test_figures_carry_the_time_of_the_last_refresh(api_client, staff):
    assert summary(api_client, staff["330100"])["as_of"] is None
    before = timezone.now()
    today = timezone.localdate()
    rebuild_rollups(date_from=today - timedelta(days=3), date_to=today)
    after = timezone.now()
    as_of = RollupRefresh.last()
    assert before <= as_of <= after
    shown = summary(api_client, staff["330100"])["as_of"]
    assert shown is not None and shown.startswith(timezone.localtime(as_of).strftime("%Y-%m-%d"))


def test_a_rebuild_of_past_days_only_does_not_move_the_time(staff):
    today = timezone.localdate()
    rebuild_rollups(date_from=today, date_to=today)
    first = RollupRefresh.last()
    rebuild_rollups(date_from=today - timedelta(days=10), date_to=today - timedelta(days=5))
    assert RollupRefresh.last() == first
    rebuild_rollups(date_from=today, date_to=today)
    assert RollupRefresh.last() > first


def test_the_page_shows_the_time_of_its_figures(client, staff):
    client.force_login(staff["330100"])
    page = client.get("/dashboard/").content.decode()
    assert 'id="as-of"' in page and "数据尚未汇总" in page
    today = timezone.localdate()
    rebuild_rollups(date_from=today, date_to=today)
    page = client.get("/dashboard/").content.decode()
    assert f"数据截至 {timezone.localtime(RollupRefresh.last()):%Y-%m-%d %H:%M}" in page


def test_scheduler_runs_each_job_at_start_then_on_its_interval():
    ran: list[str] = []
    scheduler = Scheduler(
        jobs=[Job("minutely", 60), Job("hourly", 3600)], run=ran.append, clock=lambda: 0.0
    )
    assert scheduler.run_due(now=0) == ["minutely", "hourly"]
    assert scheduler.run_due(now=59) == []
    assert scheduler.run_due(now=60) == ["minutely"]
    assert scheduler.run_due(now=130) == ["minutely"]
    assert scheduler.run_due(now=3600) == ["minutely", "hourly"]
    assert ran == ["minutely", "hourly", "minutely", "minutely", "minutely", "hourly"]


def test_a_failing_job_does_not_stop_the_others():
    ran: list[str] = []

    def run(name: str) -> None:
        if name == "broken":
            raise RuntimeError("boom")
        ran.append(name)

    scheduler = Scheduler(jobs=[Job("broken", 60), Job("fine", 60)], run=run)
    assert scheduler.run_due(now=0) == ["broken", "fine"]
    assert ran == ["fine"]
    assert scheduler.run_due(now=60) == ["broken", "fine"]


def test_the_scheduler_takes_beat_schedule_and_runs_the_real_tasks(api_client, staff, settings):
    scheduler = Scheduler.from_beat_schedule(settings.CELERY_BEAT_SCHEDULE)
    assert REFRESH in {j.name for j in scheduler.jobs}
    assert "incentives.expire_vouchers" in {j.name for j in scheduler.jobs}
    hz = f.offer(f.merchant("330100"))
    f.voucher(hz, f.resident("310100"), timezone.now() - timedelta(minutes=5))
    assert summary(api_client, staff["330100"])["claims"] == 0  # no roll-up yet

    scheduler.jobs = [j for j in scheduler.jobs if j.name == REFRESH]
    assert scheduler.run_due(now=0) == [REFRESH]

    figures = summary(api_client, staff["330100"])
    assert figures["claims"] == 1 and figures["as_of"] is not None


def test_only_the_embedded_default_runs_its_own_scheduler(settings):
    settings.EMBEDDED_SCHEDULER = True
    settings.REDIS_URL = None
    assert enabled()
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"  # beat's job
    assert not enabled()
    settings.REDIS_URL = None
    settings.EMBEDDED_SCHEDULER = False
    assert not enabled()
