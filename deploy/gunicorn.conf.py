"""gunicorn settings for bonemets (run from the project folder):

    gunicorn -c deploy/gunicorn.conf.py                       # listens on 127.0.0.1:8000
    BONEMETS_BIND=127.0.0.1:8001 gunicorn -c deploy/gunicorn.conf.py

Meant to sit behind a buffering proxy (deploy/nginx/bonemets.conf): nginx reads slow clients'
requests and writes their responses, so a worker thread is busy only while the app computes.
Every setting can be overridden on the command line (e.g. ``--bind``, ``--workers``).
"""
import os

from bonemets import serving

# A response's headers and the first bytes of its body in one write (bonemets/serving.py): a
# process that dies mid-response then costs no half-sent page; nginx retries it elsewhere.
serving.install()

wsgi_app = "app:create_app()"
bind = [os.environ.get("BONEMETS_BIND", "127.0.0.1:8000")]

# gthread: each process serves several requests at once with threads, so one request that takes
# a while (a PDF is about 0.25 s of CPU) or a slow client that got past the proxy does not stall
# /healthz and every other page, as one-request-per-process sync workers did. Two processes per
# two cores; the PDF route is CPU-bound, so more threads would only queue behind the GIL.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("BONEMETS_THREADS", "4"))

timeout = 30            # a worker silent for 30 s is restarted (a PDF takes well under 1 s)
graceful_timeout = 20   # on SIGTERM, requests in flight get 20 s to finish (rolling updates)
keepalive = 5           # idle keep-alive connections from the proxy are closed after 5 s
max_requests = 5000     # recycle processes now and then (memory from PDF rendering)
max_requests_jitter = 500

# Small requests only: the answers fit in a few KB (the app refuses bodies over 64 KB).
limit_request_line = 4094
limit_request_fields = 60
limit_request_field_size = 8190

# Read-only root file system friendly: heartbeat files in memory, no control socket file.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
control_socket_disable = True

# Nothing about a person is logged: no access log (paths and form posts stay off disk); errors
# and start-up messages go to stderr.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("BONEMETS_LOG_LEVEL", "info")
# One place decides whether X-Forwarded-* headers are believed: the app's ProxyFix, switched on
# with BONEMETS_PROXY_FIX=1 behind a proxy that sets them (deploy/nginx/bonemets.conf does).
# gunicorn's own X-Forwarded-Proto handling is off, so a client cannot claim HTTPS.
secure_scheme_headers = {}
forwarded_allow_ips = "127.0.0.1,::1"
