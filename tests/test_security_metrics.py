"""/metrics does not leak (issue 24, point 4): production refuses to start without
METRICS_TOKEN (settings and the system check xinyou.E001); the balancer's rule on the
decoded path is tested against a real HAProxy in tests/test_security_server.py."""

from core.checks import metrics_token_in_production
from tests.test_platform import _run_django
from tests.test_security_headers import PROD


def test_production_refuses_to_start_without_a_metrics_token():
    env = {k: v for k, v in PROD.items() if k != "METRICS_TOKEN"}
    res = _run_django({**env, "METRICS_TOKEN": ""}, "check")
    assert res.returncode != 0
    assert "METRICS_TOKEN" in res.stderr
    short = _run_django({**env, "METRICS_TOKEN": "short"}, "check")
    assert short.returncode != 0 and "METRICS_TOKEN" in short.stderr


def test_production_starts_with_one():
    res = _run_django(PROD, "check")
    assert res.returncode == 0, res.stdout + res.stderr


def test_the_system_check_refuses_production_without_a_token(settings):
    settings.XINYOU_PROFILE = "production"
    settings.METRICS_TOKEN = None
    assert [m.id for m in metrics_token_in_production()] == ["xinyou.E001"]
    settings.METRICS_TOKEN = "a-long-enough-metrics-token"
    assert metrics_token_in_production() == []
    settings.XINYOU_PROFILE = "test"
    settings.METRICS_TOKEN = None
    assert metrics_token_in_production() == []
