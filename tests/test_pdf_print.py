"""The PDF (WeasyPrint): A4 or US Letter (chosen on the summary page, else by the browser's
region), a typical plan on at most two pages with no mostly-empty last page, text 11pt with
nothing under 9pt, and large print at 14pt."""
from __future__ import annotations

import re
import subprocess

import pytest

# DejaVu Sans: a word's box in pdftotext -bbox is its ascent plus descent, 1.164 em.
EM = 1.164


def _pdf(client, tmp_path, data, name="s.pdf", headers=None):
    r = client.post("/summary.pdf", data=data, headers=headers or {})
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    path = tmp_path / name
    path.write_bytes(r.data)
    return str(path)


def _info(path):
    out = subprocess.run(["pdfinfo", path], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", out).group(1))
    size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", out).groups()
    return pages, tuple(round(float(v)) for v in size)


def _word_sizes(path, skip_page_numbers=False):
    """The font size of each word (the page numbers, 9pt in the page margin, left out when
    asked: large print enlarges the page, not the margin)."""
    out = subprocess.run(["pdftotext", "-bbox", path, "-"], capture_output=True, text=True,
                         check=True).stdout
    words = re.findall(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>', out)
    sizes = []
    for i, (a, b, w) in enumerate(words):
        around = " ".join(x[2] for x in words[max(0, i - 3):i + 4])
        if skip_page_numbers and re.search(r"Page \d+ of \d+", around) and (w == "Page" or w == "of" or w.isdigit()):
            continue
        sizes.append((float(b) - float(a)) / EM)
    return sizes


def _page_lines(path):
    out = subprocess.run(["pdftotext", "-layout", path, "-"], capture_output=True, text=True,
                         check=True).stdout
    return [len([ln for ln in p.splitlines() if ln.strip()]) for p in out.split("\f") if p.strip()]


@pytest.mark.parametrize("paper,size", [("a4", (595, 842)), ("letter", (612, 792))])
def test_typical_pdf_on_two_pages_of_the_chosen_paper(client, typical, tmp_path, paper, size):
    path = _pdf(client, tmp_path, {**typical, "paper": paper})
    pages, got = _info(path)
    assert got == size
    assert 1 <= pages <= 2, pages
    lines = _page_lines(path)
    assert len(lines) == 1 or lines[-1] >= 0.5 * lines[0], lines
    sizes = _word_sizes(path)
    assert min(sizes) >= 8.9, min(sizes)
    assert sorted(sizes)[len(sizes) // 2] >= 9, "most words at 9pt or more"
    assert max(sizes) < 17


def test_paper_follows_the_browser_region_when_not_chosen(client, typical, tmp_path):
    us = _pdf(client, tmp_path, typical, "us.pdf", {"Accept-Language": "en-US,en;q=0.8"})
    gb = _pdf(client, tmp_path, typical, "gb.pdf", {"Accept-Language": "en-GB"})
    assert _info(us)[1] == (612, 792) and _info(gb)[1] == (595, 842)


def test_large_print_pdf(client, typical, tmp_path):
    std = _word_sizes(_pdf(client, tmp_path, typical, "std.pdf"))
    large = _word_sizes(_pdf(client, tmp_path, {**typical, "print_size": "large"}, "large.pdf"),
                        skip_page_numbers=True)
    assert min(large) >= 11.9, min(large)
    body = sorted(large)[len(large) // 2]
    assert body >= 12 and body > sorted(std)[len(std) // 2]
    assert any(abs(s - 14) < 0.3 for s in large), "14pt body text"


def test_summary_page_offers_large_print_and_paper_size(client, typical):
    html = client.post("/summary", data=typical).get_data(as_text=True)
    assert 'name="print_size" value="large"' in html
    assert 'name="paper" value="a4"' in html and 'name="paper" value="letter"' in html
    assert "Ctrl+P" not in html
    large = client.post("/summary", data={**typical, "print_size": "large"}).get_data(as_text=True)
    assert "summary--large" in large and "summary--large" not in html
