"""Suite-wide fixtures. The suite runs on PostgreSQL and Redis (make test starts both)."""

import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

# Property tests never time things (a loaded machine is not a failure) and, in CI, draw
# the same examples every run (CI=true); locally they keep exploring new ones.
hypothesis_settings.register_profile(
    "xinyou", deadline=None, derandomize=os.environ.get("CI") == "true", print_blob=True
)
hypothesis_settings.load_profile("xinyou")

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
# The browser of every browser test: Debian's Chromium driven by Playwright.
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# Two lanes (docs/architecture.md): the main suite on throwaway PostgreSQL and Redis servers
# (config.settings.test), and the embedded lane (tests/embedded/) on the settings of
# `make run` (config.settings.embedded): the embedded PostgreSQL, eager Celery, no Redis.
# Each collects only its own tests.
EMBEDDED_LANE = os.environ.get("XINYOU_LANE") == "embedded"
EMBEDDED_DIR = Path(__file__).resolve().parent / "embedded"


def pytest_ignore_collect(collection_path, config):
    inside = collection_path == EMBEDDED_DIR or EMBEDDED_DIR in collection_path.parents
    if EMBEDDED_LANE:
        if collection_path.is_file() and collection_path.name.startswith("test_"):
            return not inside
        return None
    return True if inside else None


def pytest_configure(config):
    from django.conf import settings

    if EMBEDDED_LANE:
        if (
            os.environ.get("DATABASE_URL")
            or os.environ.get("REDIS_URL")
            or settings.XINYOU_PROFILE != "embedded"
        ):
            raise pytest.UsageError(
                "The embedded lane runs as `make run` does: config.settings.embedded, "
                "DATABASE_URL and REDIS_URL unset (use `make test-embedded`)."
            )
        return
    if settings.XINYOU_PROFILE != "test":
        raise pytest.UsageError(
            "The suite runs on config.settings.test: use `make test`, which starts "
            "PostgreSQL and Redis."
        )


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (`-n auto --dist loadgroup`, as `make test` runs): the browser
    tests share one worker (one Chromium at a time), and so do the slow ones (races with
    hundreds of connections, the fuzz, real Celery workers); everything else spreads.
    Each worker has its own PostgreSQL test database (pytest-django) and Redis database
    (config.settings.test)."""
    for item in items:
        if item.get_closest_marker("outage") and os.environ.get("PYTEST_XDIST_WORKER"):
            # stopping the servers would break the other workers' tests: `make test` runs
            # these alone, after the parallel pass (`pytest -m outage`)
            item.add_marker(pytest.mark.skip(reason="stops the shared servers: run alone"))
        elif item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))
        elif item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.xdist_group("slow"))


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]
    return [
        f"database backend: {db['ENGINE']} at {db.get('HOST')}:{db.get('PORT')}",
        f"cache backend: {settings.CACHES['default']['BACKEND']} ({os.environ.get('REDIS_URL')})",
    ]


def pytest_terminal_summary(terminalreporter):
    """How much the schemathesis fuzz did (tests/test_schema_fuzz.py), when it ran."""
    fuzz = sys.modules.get("tests.test_schema_fuzz")
    calls = getattr(fuzz, "CALLS", None)
    if not calls:
        return
    by_caller = {c: sum(n for (_, who), n in calls.items() if who == c) for c in fuzz.CALLERS}
    operations = len({op for op, _ in calls})
    terminalreporter.write_line(
        f"schemathesis: {sum(calls.values())} calls over {operations} operations, by caller "
        + ", ".join(f"{who} {n}" for who, n in by_caller.items())
        + f"; statuses {dict(sorted(fuzz.STATUSES.items()))}"
    )


@pytest.fixture(autouse=True)
def _eager_celery_and_clean_cache(settings):
    """Tasks run in-process unless a test asks for the real worker; each test gets an
    empty cache (throttle counters, breaker state, locks live there)."""
    from django.core.cache import cache

    from config.celery import app
    from core.resilience import queue_dependency, redis_dependency

    redis_dependency.reset()  # a test that stopped Redis leaves no "down" mark behind
    queue_dependency.reset()

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    # hashing strength is not under test; thousands of test users are
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    app.conf.task_always_eager = True


@pytest.fixture
def cities(db):
    from accounts.models import City
    from accounts.partner_cities import PARTNER_CITIES

    City.objects.bulk_create(
        [City(code=c, name=n, name_en=e, province=p) for c, n, e, p in PARTNER_CITIES],
        ignore_conflicts=True,
    )
    return {c.code: c for c in City.objects.all()}


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


def bearer(user) -> dict:
    # an access token alone (a refresh token would be recorded as outstanding: a query),
    # with the role claim the gate's views read
    from accounts.tokens import access_token_for

    return {"HTTP_AUTHORIZATION": f"Bearer {access_token_for(user)}"}


@pytest.fixture
def resident(cities):
    from tests.factories import ResidentFactory

    return ResidentFactory(home_city=cities["330100"])


@pytest.fixture
def resident_client(resident):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(**bearer(resident))
    client.user = resident
    return client


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def start_celery_worker(transactional_db):
    """Start a real `celery worker` process on the test Redis and the test database;
    extra environment variables (settings of the worker) may be passed."""
    from django.db import connection
    from redis.exceptions import ConnectionError as RedisConnectionError

    from config.celery import app

    procs: list[subprocess.Popen] = []

    def start(**extra_env: str) -> subprocess.Popen:
        log = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed with the process)
        env = dict(os.environ)
        db_name = connection.settings_dict["NAME"]
        url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + db_name
        env.update(DATABASE_URL=url, CELERY_TASK_ALWAYS_EAGER="0", PYTHONPATH=str(ROOT))
        env.update(extra_env)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--concurrency=1",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"test-{os.getpid()}-{len(procs)}@localhost",
            ],
            cwd=ROOT,
            env=env,
            # a file, not a pipe: a worker that logs a lot must never block on a full pipe
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        proc.log = log  # what the worker printed, for tests that read its log lines
        procs.append(proc)
        app.conf.task_always_eager = False
        # Celery keeps "a task is running here, never join" in one process-wide flag that
        # each eager call sets and restores; eager calls from several threads at once
        # (concurrency tests, the live server) can restore it crosswise and leave it set.
        # This process is now a client of a real worker: joining results is what it does.
        from celery._state import _set_task_join_will_block

        _set_task_join_will_block(False)
        # generous: on a loaded 2-core machine a worker's start can take long
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError("celery worker exited:\n" + log.read())
            try:
                if app.control.ping(timeout=0.5):
                    return proc
            except (ConnectionError, RedisConnectionError):  # pooled before a Redis restart
                continue
        raise RuntimeError("celery worker did not answer a ping within 180 s")

    yield start
    app.conf.task_always_eager = True
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def celery_worker_process(start_celery_worker):
    return start_celery_worker()


@pytest.fixture(scope="module")
def chromium(django_db_setup):
    """The suite's one browser (every browser test: tests/web, tests/dashboard), one per
    test module, closed at the module's end (so that no Playwright session is left
    running in this thread when another module starts its own)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium)")
    # Playwright's sync API keeps an event loop in this thread; Django's ORM refuses to
    # run where a loop is running unless told that it is safe. It is: the ORM calls of
    # the tests are plain synchronous code, and the live server has its own threads.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@contextmanager
def contexts_of(browser):
    """The shared browser for a block; every context opened in it is closed at its end."""
    before = set(browser.contexts)
    try:
        yield browser
    finally:
        for context in browser.contexts:
            if context not in before:
                context.close()
