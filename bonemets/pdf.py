"""The discussion summary as a PDF, rendered server-side with WeasyPrint.

WeasyPrint takes about half a second to import (and its fonts and stylesheets a few tenths
more), so this module is imported only where a PDF is rendered: in the helper process of
bonemets/pdf_pool.py, or in the request's thread when PDFs are rendered there; start-up and
every other page stay fast. The PDF may load only the app's own ``/static/`` files, read from
disk: it never reaches the network.
"""
from __future__ import annotations

import gc
import os

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, path2url

from .paths import STATIC_DIR as STATIC

_FONTS = FontConfiguration()
# The stylesheets are parsed once per process, not on every PDF (the page does not link them
# when it is rendered for the PDF).
_STYLESHEETS = [CSS(filename=os.path.join(STATIC, name), font_config=_FONTS)
                for name in ("style.css", "language.css", "print.css")]


class StaticOnlyFetcher(URLFetcher):
    """Serve ``/static/`` URLs from disk; refuse everything else."""

    def __init__(self):
        super().__init__(allowed_protocols={"file"})

    def fetch(self, url, headers=None):
        marker = "/static/"
        if marker in url:
            rel = url.split(marker, 1)[1].split("?", 1)[0]
            path = os.path.normpath(os.path.join(STATIC, rel))
            if path.startswith(STATIC + os.sep) and os.path.isfile(path):
                return super().fetch(path2url(path), headers)
        raise ValueError(f"refusing to fetch {url!r} while rendering a PDF")


# The page size of the PDF (the browser's print dialog chooses its own).
_PAPER = {name: CSS(string=f"@page {{ size: {size}; }}", font_config=_FONTS)
          for name, size in (("a4", "A4"), ("letter", "letter"))}


def render(html: str, base_url: str, paper: str = "a4") -> bytes:
    """The PDF, in this process."""
    # A render makes hundreds of thousands of short-lived objects; pausing the cycle collector
    # for its ~0.25 s makes it about 15% faster (measured in benchmarks/pdf_speed.py). Memory is
    # still freed by reference counting, and any cycles at the next collection.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return HTML(string=html, base_url=base_url, url_fetcher=StaticOnlyFetcher()).write_pdf(
            stylesheets=[*_STYLESHEETS, _PAPER.get(paper, _PAPER["a4"])], font_config=_FONTS)
    finally:
        if was_enabled:
            gc.enable()
