from django.core.wsgi import get_wsgi_application

from config.scheduler import start_embedded_scheduler
from config.settings import select_profile

select_profile()  # config.settings.embedded unless DJANGO_ENV=production
application = get_wsgi_application()

# The embedded default has no Celery beat: its periodic jobs run in this process
# (runserver and the HTTPS dev server both load this module). Off when REDIS_URL is set.
start_embedded_scheduler()
