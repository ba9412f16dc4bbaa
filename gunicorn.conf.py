"""gunicorn's settings for every shape we ship (read by any gunicorn started in the
project folder: `make run-https`, the cluster's web nodes, the image's CMD).

- worker_class: gthread with a buffering front (core.gunicorn_worker.BufferingWorker):
  slow or stalled clients hold no thread (issue 24, point 1);
- the request limits, whose refusals are the JSON envelope (414 uri_too_long,
  431 headers_too_large, 400 invalid_request);
- logger_class: access and error logs without personal query values.

Command-line options still win (e.g. --workers, --threads, --bind).
"""

import os

worker_class = "core.gunicorn_worker.BufferingWorker"
threads = int(os.environ.get("WEB_THREADS", "4"))
logger_class = "core.gunicorn_worker.RedactingLogger"
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
