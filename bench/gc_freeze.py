"""gunicorn config for bench/run.py --gc-freeze: freeze the objects a worker holds after
loading the app (modules, code tables, pydantic schemas), so the cyclic garbage
collector stops rescanning them on every collection during a hook call.

Only an experiment of the benchmark; `mbc-cds serve` (service/cli.py) does not do this.
"""

import gc


def post_worker_init(worker):  # gunicorn server hook: after the worker loaded the app
    gc.freeze()
