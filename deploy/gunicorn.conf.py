"""gunicorn settings for the directory behind the nginx of deploy/nginx.conf.

    gunicorn --config deploy/gunicorn.conf.py        (the systemd unit runs this)

Sync workers read each request whole, one at a time: a client that sends slowly holds a worker
for as long as it likes. They are safe only behind a buffering proxy (nginx) that receives the
whole request before passing it on, so gunicorn listens on 127.0.0.1 only. Every setting can be
overridden on the command line (`--workers 4`), and the bind address and worker count also from
the environment (GUNICORN_BIND, WEB_CONCURRENCY).
"""

import gc
import multiprocessing
import os

wsgi_app = "directory:create_app()"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Sync workers: the application is synchronous (SQLAlchemy, Whoosh, Pillow), and nginx absorbs
# slow clients, so a worker only ever waits for the application. Two per core plus one keeps
# the cores busy while a worker waits for the database; each worker adds about 35 MB of memory
# of its own (preloaded and warmed up; 85 MB without), measured in README "Running in production".
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY", 0)) or multiprocessing.cpu_count() * 2 + 1
# The app reads it to warn when several workers keep rate limits in memory, each on its own.
os.environ["WEB_CONCURRENCY"] = str(workers)

# A request that takes longer than this is a bug or an attack: the worker is killed and
# replaced. Below nginx's proxy_read_timeout (35 s), so that nginx sees how it ended; well above
# the slowest real request (a PDF export).
timeout = 30
graceful_timeout = 30  # on restart, running requests get this long to finish
# Restart each worker now and then so that slow leaks (image decoding, caches) cannot grow
# without bound; the jitter keeps the workers from restarting all at once.
max_requests = 2000
max_requests_jitter = 200

# Import the application once in the master and fork the workers from it: the modules and the
# data loaded at start are shared copy-on-write instead of loaded once per worker. A new release
# needs `systemctl restart`, not a HUP, which would keep the preloaded code.
preload_app = True

# The heartbeat file of each worker on tmpfs, so that a slow disk cannot make the master
# believe a worker has hung.
worker_tmp_dir = "/dev/shm"  # noqa: S108 - tmpfs, as gunicorn advises; not a data file

# nginx is the only client; it sets X-Forwarded-Proto. The application trusts exactly one proxy
# hop itself (PROXY_FIX_HOPS in the production profile).
forwarded_allow_ips = "127.0.0.1,::1"

# The site is managed by systemd; gunicorn's control socket (gunicornc) is not used.
control_socket_disable = True

# Access and error log to stdout/stderr, i.e. the journal. nginx has the client's address as
# $remote_addr and passes it in X-Forwarded-For, which is logged here in place of nginx's own.
accesslog = "-"
errorlog = "-"
loglevel = "info"
access_log_format = '%({x-forwarded-for}i)s "%(r)s" %(s)s %(B)s %(M)sms "%(f)s" "%(a)s"'


def when_ready(server):
    """With the application preloaded, warm it up in the master before the first fork: the
    public pages once in each language (directory/warmup.py), so that what they load is shared
    by the workers instead of loaded again by each one."""
    if server.cfg.preload_app:
        from directory.warmup import warm_up

        statuses = warm_up(server.app.wsgi())
        server.log.info("Warmed up with %d public pages before forking the workers", len(statuses))


def pre_fork(server, worker):
    """Move what the preloaded app has allocated out of the garbage collector's reach.

    Without it the first collection in each worker touches every object, and the memory pages
    the worker shared with the master become private copies (gc.freeze, Python 3.7+).
    """
    gc.freeze()


def post_fork(server, worker):
    """Give the new worker database connections of its own, never one opened in the master."""
    from directory.extensions import db

    app = worker.app.wsgi()
    with app.app_context():
        db.engine.dispose(close=False)
