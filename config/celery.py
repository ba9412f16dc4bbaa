"""The Celery app: configured from Django settings (CELERY_*), tasks found in the apps."""

from celery import Celery

from config.settings import select_profile

select_profile()  # config.settings.embedded unless DJANGO_ENV=production

app = Celery("xinyou")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
