"""gunicorn settings for bonemets (run from the project folder):

    gunicorn -c deploy/gunicorn.conf.py                       # listens on 127.0.0.1:8000
    BONEMETS_BIND=127.0.0.1:8001 gunicorn -c deploy/gunicorn.conf.py

Meant to sit behind a buffering proxy (deploy/nginx/bonemets.conf): nginx reads slow clients'
requests and writes their responses, so a worker thread is busy only while the app computes.
Every setting can be overridden on the command line (e.g. ``--bind``, ``--workers``).
"""
import gc
import os

from bonemets import pdf_pool, serving

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

# The app is loaded once, in the master process, before the workers are forked: a broken rule
# book stops gunicorn at once, and a worker started later (max_requests below) is serving within
# milliseconds instead of spending about 2 s reading both languages' rule books. Without it,
# two workers restarting close together left none to answer for a second or more
# (benchmarks/pdf_load.py).
preload_app = True

# PDFs are rendered in a helper process of each worker, at a lower priority (bonemets/pdf_pool.py):
# a PDF never holds the Python lock the worker's other threads need, and with both cores busy
# the other pages get most of the CPU. BONEMETS_PDF_PROCESS=0 renders them in the request's
# thread instead.
os.environ.setdefault("BONEMETS_PDF_PROCESS", "1")

timeout = 30            # a worker silent for 30 s is restarted (a PDF takes well under 1 s)
graceful_timeout = 20   # on SIGTERM, requests in flight get 20 s to finish (rolling updates)
keepalive = 5           # idle keep-alive connections from the proxy are closed after 5 s
# Recycle processes now and then: a safety net for memory. A PDF rendered in the request's
# thread leaves memory in the worker, so the worker is then recycled every ~5,000 requests; a
# helper process recycles itself every 200 PDFs (bonemets/pdf_pool.py) and the worker never
# loads WeasyPrint (benchmarks/soak.py --route results: +8% and +1% over 20,000 results pages
# after warm-up), so with it the worker goes on ten times longer. A worker restart costs the
# pages in flight on it a short wait (README "Performance").
def _recycle_every() -> int:
    return 50000 if pdf_pool.asked_for() else 5000


max_requests = _recycle_every()
max_requests_jitter = max_requests // 10


def on_starting(server):
    """``-e``/``raw_env`` (and GUNICORN_CMD_ARGS) values reach os.environ only after this file
    has run: size the recycling again for where PDFs are rendered, unless ``--max-requests``
    was given on the command line."""
    cfg = server.cfg
    if cfg.max_requests == max_requests:
        n = _recycle_every()
        cfg.set("max_requests", n)
        if cfg.max_requests_jitter == max_requests_jitter:
            cfg.set("max_requests_jitter", n // 10)


def pre_fork(server, worker):
    """Before each worker is forked from the master (which holds the loaded app: preload_app),
    move every object it has into the collector's permanent generation (``gc.freeze``): the
    cycle collector of the worker then never scans the rule books, catalogs and templates
    again. About a third less collector time per results page (about 0.3 ms of 6 ms, measured
    through the test client), and fewer of the memory pages shared with the master are copied
    (a scan writes to each object it visits)."""
    gc.freeze()


def post_worker_init(worker):
    """gunicorn's own answers (a request it cannot read) take their words and the clinician
    caveat from the app this worker serves (bonemets/serving.py ``use_app``)."""
    serving.use_app(worker.wsgi)


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
