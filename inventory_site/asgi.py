"""The ASGI application (uvicorn): what serves the live run logs as Server-Sent Events."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inventory_site.settings")
application = get_asgi_application()

from django.conf import settings  # noqa: E402 - configured by get_asgi_application

if settings.DEBUG:
    # runserver serves static files itself; under uvicorn in development this does.
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    application = ASGIStaticFilesHandler(application)
