"""The Celery app: configured from Django settings (the CELERY_ names)."""

import os

from celery import Celery
from celery.signals import beat_embedded_init

from config.beat import die_with_the_worker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("quiver")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# A beat inside a worker (-B) dies with it (the beat's own scheduler, one per var folder,
# is CELERY_BEAT_SCHEDULER).
beat_embedded_init.connect(die_with_the_worker)
