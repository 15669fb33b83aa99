"""The interface's message catalogs (Flask-Babel): ``translations/<lang>/LC_MESSAGES/messages.po``.

The .po files are the source (in git); the .mo files are compiled by the build
(``scripts/compile_translations.sh``, i.e. ``pybabel compile -d translations``) and never
committed. At start-up :func:`catalog_dir` checks every configured language has a catalog: a
language without a .po stops the app; a .mo that is missing or older than its .po (a fresh
checkout that skipped the build step) is compiled into a private temporary folder instead, with a
warning, so pages are never half translated. Nothing is written into the source tree at run time.
A catalog with an untranslated or a fuzzy entry (Babel marks an entry fuzzy when its English
changed and the old translation may no longer fit) stops the app too, naming the entry: such an
entry would show in English, or with an out-of-date meaning.

``python -m bonemets.translations`` compiles the .mo files in place (the build step, the same as
``pybabel compile -d translations``) and fails on an untranslated or fuzzy entry.
"""
from __future__ import annotations

import os
import shutil
import tempfile

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from .paths import TRANSLATIONS_DIR

DOMAIN = "messages"


class CatalogError(RuntimeError):
    """A configured language has no message catalog."""


def _paths(root: str, lang: str) -> tuple:
    folder = os.path.join(root, lang, "LC_MESSAGES")
    return os.path.join(folder, f"{DOMAIN}.po"), os.path.join(folder, f"{DOMAIN}.mo")


def compile_po(po: str, mo: str) -> int:
    """Compile one catalog; returns the number of translated messages. Fuzzy entries are left
    out, as pybabel does."""
    with open(po, "rb") as fh:
        catalog = read_po(fh)
    os.makedirs(os.path.dirname(mo), exist_ok=True)
    with open(mo, "wb") as fh:
        write_mo(fh, catalog, use_fuzzy=False)
    return sum(1 for m in catalog if m.id and m.string and not m.fuzzy)


def problems(po: str) -> list:
    """The entries of a catalog that would not show translated: untranslated or fuzzy."""
    with open(po, "rb") as fh:
        catalog = read_po(fh)
    out = []
    for m in catalog:
        if not m.id:
            continue
        strings = m.string if isinstance(m.string, (tuple, list)) else (m.string,)
        first = m.id[0] if isinstance(m.id, (tuple, list)) else m.id
        if m.fuzzy:
            out.append(f"fuzzy (its English changed: check the translation, then remove the "
                       f"fuzzy flag): {first!r}")
        elif not all(strings):
            out.append(f"untranslated: {first!r}")
    return out


def check(root: str, lang: str) -> None:
    po = _paths(root, lang)[0]
    found = problems(po)
    if found:
        raise CatalogError(f"{os.path.relpath(po)} has {len(found)} message(s) that would not "
                           f"show in '{lang}': " + "; ".join(found[:5])
                           + (" ..." if len(found) > 5 else ""))


def stale(root: str, lang: str) -> bool:
    po, mo = _paths(root, lang)
    return not os.path.exists(mo) or os.path.getmtime(mo) < os.path.getmtime(po)


def catalog_dir(languages, root: str = TRANSLATIONS_DIR, source: str = "en", log=None) -> str:
    """The folder Flask-Babel should read: ``root`` when every catalog is compiled, or a
    temporary copy with the missing ones compiled."""
    wanted = [lang for lang in languages if lang != source]
    for lang in wanted:
        if not os.path.exists(_paths(root, lang)[0]):
            raise CatalogError(f"the language '{lang}' is configured but has no message catalog "
                               f"({os.path.relpath(_paths(root, lang)[0])}): make one with "
                               "pybabel init (docs/ARCHITECTURE.md, 'Add a language')")
        check(root, lang)
    todo = [lang for lang in wanted if stale(root, lang)]
    if not todo:
        return root
    tmp = tempfile.mkdtemp(prefix="bonemets-translations-")
    for lang in wanted:
        po, mo = _paths(root, lang)
        tpo, tmo = _paths(tmp, lang)
        if lang in todo:
            compile_po(po, tmo)
        else:
            os.makedirs(os.path.dirname(tmo), exist_ok=True)
            shutil.copyfile(mo, tmo)
    if log is not None:
        log.warning("Message catalogs %s were not compiled (run scripts/compile_translations.sh "
                    "in the build); compiled them at start-up instead.", ", ".join(todo))
    return tmp


def main(argv=None) -> int:
    """Compile every catalog (``--check``: only check them); 1 if one has an untranslated or
    fuzzy entry."""
    import sys
    only_check = "--check" in (sys.argv[1:] if argv is None else argv)
    bad = 0
    for lang in sorted(os.listdir(TRANSLATIONS_DIR)):
        po, mo = _paths(TRANSLATIONS_DIR, lang)
        if os.path.exists(po):
            try:
                check(TRANSLATIONS_DIR, lang)
            except CatalogError as exc:
                print(f"FAIL {exc}")
                bad += 1
            if not only_check:
                print(f"{os.path.relpath(mo)}: {compile_po(po, mo)} messages")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
