"""Gunicorn settings of the container image (docker/Dockerfile).

    gunicorn --config docker/gunicorn.conf.py 'service.app:production_app()'

Workers come from MBC_CDS_WORKERS (service/config.py, default 2); any other
gunicorn flag can be given in GUNICORN_CMD_ARGS (e.g. "--bind 0.0.0.0:9000").
When PROMETHEUS_MULTIPROC_DIR is set (the image sets it), /metrics adds up the
samples of all workers: the directory is emptied when gunicorn starts and a
dead worker's files are marked as such.
"""

import os
import shutil

from service.config import Settings

# Reading the settings here makes a bad configuration (clients file, JWT
# algorithms...) stop the server at start-up with its message, before any worker.
_settings = Settings()

bind = "0.0.0.0:8080"
workers = _settings.workers
worker_class = "gthread"
threads = _settings.threads
reuse_port = _settings.reuse_port  # one listening socket per worker (service/config.py)
timeout = 60
graceful_timeout = 30
keepalive = 5
accesslog = None  # the service logs one JSON line per hook call (service/logs.py)
errorlog = "-"
# the error log without what a caller sent in a request line gunicorn could not parse
# (with a statsd_host, gunicorn's statsd logger filtered the same way)
logger_class = "service.serve_logging.QuerylessGunicornLogger"
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
