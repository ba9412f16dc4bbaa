# syntax=docker/dockerfile:1
# Xinyou web / worker / beat image. Multi-stage: the build stage has the compilers and
# gettext; the final image has the virtualenv, the code and compiled translations only,
# and runs as an unprivileged user. docs/deploy.md says how to build and run it.

FROM python:3.13-slim-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential gettext \
 && rm -rf /var/lib/apt/lists/*
ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY config config
COPY core core
COPY accounts accounts
COPY merchants merchants
COPY incentives incentives
RUN pip install --upgrade pip && pip install .
COPY manage.py gunicorn.conf.py ./
COPY locale locale
COPY static static
# compiled messages and collected (hashed, compressed) static files are part of the image;
# the production settings want secrets and servers even for collectstatic (which connects
# to neither): build-only throwaways here, never in the final image's environment
RUN export DJANGO_ENV=production DJANGO_SETTINGS_MODULE=config.settings.production \
    SECRET_KEY="build-only-$(python -c 'import secrets; print(secrets.token_urlsafe(48))')" \
    ID_HASH_KEY="build-only-id-hash-key-not-used-at-runtime" \
    VOUCHER_SIGNING_KEYS='[{"kid": "B0", "public_key": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}]' \
    ALLOW_SANDBOX_SMS=1 ALLOW_SANDBOX_IDENTITY=1 METRICS_TOKEN=build-only-metrics-token \
    DATABASE_URL=postgres://build-only@127.0.0.1:9/none REDIS_URL=redis://127.0.0.1:9/0 \
 && python manage.py compilemessages --ignore='/opt/*' \
 && python manage.py collectstatic --noinput

FROM python:3.13-slim-bookworm AS runtime
ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_ENV=production DJANGO_SETTINGS_MODULE=config.settings.production \
    LOG_FORMAT=json PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus
RUN groupadd --system --gid 10001 xinyou \
 && useradd --system --uid 10001 --gid xinyou --home-dir /app --shell /usr/sbin/nologin xinyou
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=root:root /src /app
WORKDIR /app
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
# web by default; workers and beat override the command (compose.yaml, deploy/k8s); the
# worker class (gthread with a buffering front: slow clients hold no thread), request
# limits with JSON refusals and the redacting access log come from gunicorn.conf.py
CMD ["sh", "-c", "mkdir -p \"$PROMETHEUS_MULTIPROC_DIR\" && rm -f \"$PROMETHEUS_MULTIPROC_DIR\"/*.db && exec gunicorn config.wsgi --bind 0.0.0.0:8000 --workers ${WEB_WORKERS:-4} --timeout 30 --graceful-timeout 20 --no-control-socket --access-logfile -"]
