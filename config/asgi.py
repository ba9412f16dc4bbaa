from django.core.asgi import get_asgi_application

from config.settings import select_profile

select_profile()  # config.settings.embedded unless DJANGO_ENV=production
application = get_asgi_application()
