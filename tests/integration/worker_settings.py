"""Settings of the Celery worker the integration tests start: Quiver's own, with one change.

On a Redis broker every key the worker reads or writes starts with the prefix the test
names, so workers of tests running at the same time (xdist workers, the SQLite and the
PostgreSQL runs, other checkouts) never take each other's tasks from the same Redis.
"""

import os

from config.settings import *  # noqa: F403

if os.environ.get("QUIVER_TEST_BROKER_PREFIX"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": os.environ["QUIVER_TEST_BROKER_PREFIX"]}
