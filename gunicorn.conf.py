"""gunicorn's settings for Séquences on a 2-core machine shared with PostgreSQL (README, "Running on
PostgreSQL with several processes"): `gunicorn -c gunicorn.conf.py 'web:create_app()'`.

Chosen by measurement (`python -m bench load` with BENCH_LOAD_SERVERS; the README says why): a completion
costs the app about 10 ms of CPU and PostgreSQL about 2.5 ms, and while a request waits for PostgreSQL (round
trips, the commit's flush) its process can serve another. Three processes of two threads keep both cores busy;
more processes cost more CPU per request (each keeps its own engines: a run's next step lands on a process
that holds its engine less often) and more threads contend for each process's interpreter lock. gthread also
keeps clients' connections alive. On more cores: one process more than the cores (WEB_CONCURRENCY), two
threads each."""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
# The workers' heartbeat files in memory, not on disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
