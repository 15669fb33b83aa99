"""The rule book in other languages: the same rules, their texts from ``rules/i18n/<lang>/``.

English is the source: authors keep writing ``rules/*.yaml`` as before. Which fields are words
for a person is data (``rules/i18n/texts.yaml``: paths such as ``[id].because``); a language is
a folder of files with the same names, holding only those texts, keyed by id::

    rules/i18n/es/placement/radiation.yaml
        ebrt-painful-bone:
          because: La radioterapia es ...

The rule book in a language is loaded by the one loader (:func:`bonemets.rules.load_rulebook`)
with the texts swapped in as each file is read, so it is validated the same way and its plan has
exactly the same ids, groups, facts and sources: only the words differ. A missing text, a text
for an id or field the English rule book does not have, or a list with a different number of
items stops the app from starting, naming the file and the id.

Pure like the loader: no Flask; files are read once, at start-up.
"""
from __future__ import annotations

import copy
import fnmatch
import os

import yaml

from .rules import RuleBook, RuleBookError, _read_yaml, load_rulebook

SOURCE_LANGUAGE = "en"
TEXTS_FILE = "i18n/texts.yaml"

__all__ = ["SOURCE_LANGUAGE", "load_rulebooks", "load_language", "text_paths", "select",
           "english_texts", "translation_status"]


def _read(path: str, rel: str):
    return _read_yaml(path, rel)


def text_paths(root: str) -> dict:
    """``rules/i18n/texts.yaml``: {file pattern: [path, ...]} and {file pattern: [path, ...]}
    of the fields that are not text."""
    data = _read(os.path.join(root, TEXTS_FILE), TEXTS_FILE)
    if not isinstance(data, dict) or not isinstance(data.get("texts"), dict):
        raise RuleBookError(TEXTS_FILE, None, "needs 'texts': file -> list of paths")
    return data["texts"], data.get("not_text") or {}


def patterns_for(spec: dict, rel: str) -> list:
    out = []
    for pattern, paths in spec.items():
        if fnmatch.fnmatchcase(rel, pattern):
            out += [p.split(".") for p in paths]
    return out


def select(node, segs, at=()):
    """Every place a path reaches: (key path, container, slot). ``container[slot]`` is the text.
    Segments: a key, ``*`` (every key of a mapping), ``[key]`` (every item of a list, named by
    its ``key``)."""
    if not segs:
        return
    s, rest = segs[0], segs[1:]
    if s.startswith("[") and s.endswith("]"):
        name = s[1:-1]
        if isinstance(node, list):
            for item in node:
                if isinstance(item, dict) and name in item and rest:
                    yield from select(item, rest, at + (str(item[name]),))
        return
    if not isinstance(node, dict):
        return
    keys = list(node) if s == "*" else ([s] if s in node else [])
    for k in keys:
        if rest:
            yield from select(node[k], rest, at + (str(k),))
        else:
            yield at + (str(k),), node, k


def _is_text(v) -> bool:
    return (isinstance(v, str) and v.strip() != "") or (
        isinstance(v, list) and bool(v) and all(isinstance(i, str) for i in v))


def english_texts(data, patterns) -> dict:
    """{key path: text} of one English file (empty optional texts are left out)."""
    out = {}
    for segs in patterns:
        for at, container, slot in select(data, segs):
            v = container[slot]
            if _is_text(v):
                out[at] = v
    return out


def _leaves(node, at=()):
    """The texts of a translation file: nested mappings down to strings or lists of strings."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, at + (str(k),))
    else:
        yield at, node


def _where(at) -> tuple:
    """(id, field) for a message: the first part of the key path names the rule or entry."""
    return (at[0] if len(at) > 1 else None), ".".join(at[1:] if len(at) > 1 else at)


def _check(lang_rel, english: dict, translated) -> dict:
    """The translated texts of one file, checked against the English ones."""
    if translated is None:
        translated = {}
    if not isinstance(translated, dict):
        raise RuleBookError(lang_rel, None, "must be a mapping of ids to their texts")
    got = dict(_leaves(translated))
    for at, v in got.items():
        rid, field = _where(at)
        if at not in english:
            raise RuleBookError(lang_rel, rid, f"has a text '{field}' for an id or field the "
                                "English rule book does not have (check the id's spelling)")
        en = english[at]
        if isinstance(en, list):
            ok = (isinstance(v, list) and len(v) == len(en)
                  and all(isinstance(i, str) and i.strip() for i in v))
            if not ok:
                raise RuleBookError(lang_rel, rid, f"'{field}' must be a list of {len(en)} "
                                    "sentences, like the English one")
        elif not (isinstance(v, str) and v.strip()):
            raise RuleBookError(lang_rel, rid, f"'{field}' must be a non-empty text")
    for at in english:
        if at not in got:
            rid, field = _where(at)
            raise RuleBookError(lang_rel, rid, f"has no text for '{field}' (every text of the "
                                "English rule book needs one)")
    return got


def _overlay(root: str, lang: str, spec: dict, seen: set):
    def overlay(rel: str, data):
        patterns = patterns_for(spec, rel)
        if not patterns:
            return data
        lang_rel = f"i18n/{lang}/{rel}"
        seen.add(lang_rel)
        path = os.path.join(root, lang_rel)
        if not os.path.exists(path):
            raise RuleBookError(lang_rel, None, f"is missing: every text of {rel} needs a "
                                f"translation in this file")
        english = english_texts(data, patterns)
        got = _check(lang_rel, english, _read(path, lang_rel))
        data = copy.deepcopy(data)
        # Find every place first, then write: a text may also name its entry (a glossary term).
        places = [p for segs in patterns for p in select(data, segs)]
        for at, container, slot in places:
            if at in got:
                container[slot] = got[at]
        return data
    return overlay


def load_language(root: str, lang: str) -> RuleBook:
    """The rule book with its texts in ``lang`` (a folder ``rules/i18n/<lang>/``)."""
    spec, _ = text_paths(root)
    seen: set = set()
    rb = load_rulebook(root, overlay=_overlay(root, lang, spec, seen))
    folder = os.path.join(root, "i18n", lang)
    for dirpath, _dirs, names in os.walk(folder):
        for name in names:
            if name.endswith((".yaml", ".yml")):
                rel = os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")
                if rel not in seen:
                    raise RuleBookError(rel, None, "matches no text file of the rule book "
                                        "(its name must be that of the English file)")
    rb.language = lang
    return rb


def load_rulebooks(root: str, languages, english: RuleBook | None = None) -> dict:
    """{language: RuleBook} for every configured language. A language other than English must
    be declared in meta.yaml ``translations`` and have every text; otherwise RuleBookError."""
    en = english if english is not None else load_rulebook(root)
    en.language = SOURCE_LANGUAGE
    declared = en.meta.get("translations") or {}
    books = {SOURCE_LANGUAGE: en}
    for lang in languages:
        if lang == SOURCE_LANGUAGE:
            continue
        if lang not in declared:
            raise RuleBookError("meta.yaml", None, f"the language '{lang}' is configured but "
                                "not declared under 'translations'")
        books[lang] = load_language(root, lang)
    return books


def translation_status(rb: RuleBook, lang: str) -> dict:
    """meta.yaml ``translations.<lang>``: who reviewed the translation, and when (None until a
    qualified medical translator is recorded). English, the source, needs no review."""
    if lang == SOURCE_LANGUAGE:
        return {"reviewed": True}
    t = (rb.meta.get("translations") or {}).get(lang) or {}
    return {"reviewed": bool(t.get("reviewed_by")), "reviewed_by": t.get("reviewed_by"),
            "reviewed_on": t.get("reviewed_on")}


def _english_files(root: str, spec: dict) -> list:
    rels = []
    for dirpath, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "i18n")
        for name in sorted(names):
            rel = os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")
            if name.endswith((".yaml", ".yml")) and patterns_for(spec, rel):
                rels.append(rel)
    return rels


def _nest(flat: dict) -> dict:
    out: dict = {}
    for at, v in flat.items():
        node = out
        for k in at[:-1]:
            node = node.setdefault(k, {})
        node[at[-1]] = v
    return out


def skeleton(root: str, lang: str) -> list:
    """Write the texts a language still lacks into ``rules/i18n/<lang>/`` (in English, to be
    translated), keeping every text it has and dropping texts for ids that are gone.
    Returns [(file, number of texts added)]."""
    spec, _ = text_paths(root)
    done = []
    for rel in _english_files(root, spec):
        english = english_texts(_read(os.path.join(root, rel), rel), patterns_for(spec, rel))
        lang_rel = f"i18n/{lang}/{rel}"
        path = os.path.join(root, lang_rel)
        have = dict(_leaves(_read(path, lang_rel) or {})) if os.path.exists(path) else {}
        merged = {at: have.get(at, en) for at, en in english.items()}
        added = sum(1 for at in english if at not in have)
        if added or set(have) - set(english):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(f"# {rel} in '{lang}': only the texts, keyed by id (rules/i18n/texts.yaml).\n")
                yaml.safe_dump(_nest(merged), fh, allow_unicode=True, sort_keys=False, width=100)
        done.append((lang_rel, added))
    return done


if __name__ == "__main__":  # python -m bonemets.i18n LANG: add the missing texts to translate
    import sys

    from .paths import RULES_DIR
    for rel, n in skeleton(RULES_DIR, sys.argv[1]):
        print(f"{rel}: {n} text(s) to translate")
