"""Security headers and privacy headers on every response.

A small after-request hook rather than an extension (e.g. Flask-Talisman): the app needs five
fixed headers and no per-view policy changes, and the hook is easy to read and test.
"""
from __future__ import annotations

from flask import Flask, request

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
])


FIXED = [
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
]
NO_STORE = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        # No view sets these headers, so they are added in one go (cheaper than one look-up
        # per header on every response).
        h = response.headers
        h.extend(FIXED)
        if request.is_secure:
            h.add(*HSTS)
        if request.endpoint != "static":
            # Pages may carry a person's answers: never keep them in any cache.
            h.remove("Cache-Control")
            h.extend(NO_STORE)
        return response
