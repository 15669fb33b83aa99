"""The discussion summary as a PDF, rendered server-side with WeasyPrint.

WeasyPrint takes about half a second to import, so this module is imported only when a PDF is
asked for; start-up and every other page stay fast.
"""
from __future__ import annotations

import os

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

STATIC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "static")
_FONTS = FontConfiguration()


def _fetch_local(url: str, timeout: int = 10, ssl_context=None):
    """Serve /static/ files from disk; refuse every other URL (no network access from a PDF)."""
    from weasyprint.urls import default_url_fetcher
    marker = "/static/"
    if marker in url:
        rel = url.split(marker, 1)[1].split("?", 1)[0]
        path = os.path.normpath(os.path.join(STATIC, rel))
        if path.startswith(STATIC + os.sep) and os.path.isfile(path):
            return default_url_fetcher("file://" + path)
    raise ValueError(f"refusing to fetch {url!r} while rendering a PDF")


def render_pdf(html: str, base_url: str) -> bytes:
    return HTML(string=html, base_url=base_url, url_fetcher=_fetch_local).write_pdf(
        font_config=_FONTS)
