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

Each translated text also records which English it was translated from: a short fingerprint of
the English text, in ``rules/i18n/<lang>/_translated_from.yaml`` (the same nesting, file by
file). When the English text under an id changes, its fingerprint no longer matches and the
translation is *stale*: the app refuses to start, naming the file, the id and the field, as it
does for a missing text (``flask rules check`` lists every stale text). After a translator has
brought the text up to date and a reviewer has confirmed it,
``python -m bonemets.i18n <lang> --confirm [FILE ...]`` records the current English. A text with
no record yet (just added) is not refused; ``flask rules check`` warns about it and the tests
require a record for every text of the repository's rule book.

Pure like the loader: no Flask; files are read once, at start-up.
"""
from __future__ import annotations

import copy
import fnmatch
import hashlib
import json
import os

import yaml

from .loader import _read_yaml, load_rulebook
from .rules import RuleBook, RuleBookError

SOURCE_LANGUAGE = "en"
TEXTS_FILE = "i18n/texts.yaml"
FROM_FILE = "_translated_from.yaml"  # in rules/i18n/<lang>/: the English each text came from

__all__ = ["SOURCE_LANGUAGE", "load_rulebooks", "load_language", "text_paths", "select",
           "english_texts", "translation_status", "fingerprint", "stale_texts", "confirm",
           "check_languages"]


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


def fingerprint(text) -> str:
    """A short fingerprint of an English text (or list of texts), blind to line wrapping."""
    items = text if isinstance(text, list) else [text]
    flat = json.dumps([" ".join(str(t).split()) for t in items], ensure_ascii=False)
    return hashlib.sha256(flat.encode("utf-8")).hexdigest()[:12]


def _from_path(root: str, lang: str) -> tuple:
    rel = f"i18n/{lang}/{FROM_FILE}"
    return os.path.join(root, rel), rel


def read_from(root: str, lang: str) -> dict:
    """{file: {key path: fingerprint}} from ``rules/i18n/<lang>/_translated_from.yaml``."""
    path, rel = _from_path(root, lang)
    if not os.path.exists(path):
        return {}
    data = _read(path, rel) or {}
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise RuleBookError(rel, None, "must map each rule book file to the fingerprints of "
                            "its English texts")
    return {f: dict(_leaves(v)) for f, v in data.items()}


def _stale(rel: str, english: dict, recorded: dict) -> tuple:
    """([key path whose English changed since it was translated], [key path with no record])."""
    changed, unrecorded = [], []
    for at, en in english.items():
        h = recorded.get(at)
        if h is None:
            unrecorded.append(at)
        elif h != fingerprint(en):
            changed.append(at)
    return changed, unrecorded


def _stale_error(lang: str, lang_rel: str, at) -> RuleBookError:
    rid, field = _where(at)
    return RuleBookError(lang_rel, rid, f"'{field}' was translated from an earlier English text "
                         f"(the English has changed since): update the translation, then record "
                         f"it with `python -m bonemets.i18n {lang} --confirm {lang_rel}` "
                         "(`flask rules check` lists every out-of-date text)")


def _overlay(root: str, lang: str, spec: dict, seen: set, recorded=None):
    recorded = read_from(root, lang) if recorded is None else recorded

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
        changed, _new = _stale(rel, english, recorded.get(rel, {}))
        if changed:
            raise _stale_error(lang, lang_rel, changed[0])
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
    overlay = _overlay(root, lang, spec, seen)
    rb = load_rulebook(root, overlay=overlay)
    folder = os.path.join(root, "i18n", lang)
    for dirpath, _dirs, names in os.walk(folder):
        for name in names:
            if name.endswith((".yaml", ".yml")):
                rel = os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")
                if rel not in seen and rel != _from_path(root, lang)[1]:
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
        merged = {at: have.get(at, en) for at, en in english.items()}  # new: the English
        added = sum(1 for at in english if at not in have)
        if added or set(have) - set(english):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(f"# {rel} in '{lang}': only the texts, keyed by id (rules/i18n/texts.yaml).\n")
                yaml.safe_dump(_nest(merged), fh, allow_unicode=True, sort_keys=False, width=100)
        done.append((lang_rel, added))
    return done


def _translations(root: str, lang: str, spec: dict):
    """(file, translation file, {key path: English}, {key path: translated}) of every text file."""
    for rel in _english_files(root, spec):
        english = english_texts(_read(os.path.join(root, rel), rel), patterns_for(spec, rel))
        lang_rel = f"i18n/{lang}/{rel}"
        path = os.path.join(root, lang_rel)
        have = dict(_leaves(_read(path, lang_rel) or {})) if os.path.exists(path) else {}
        yield rel, lang_rel, english, have


def stale_texts(root: str, lang: str) -> dict:
    """{"changed": [(translation file, id, field)], "unrecorded": [...]}: the translated texts
    whose English changed since they were translated, and those with no record of it yet."""
    spec, _ = text_paths(root)
    recorded = read_from(root, lang)
    out: dict = {"changed": [], "unrecorded": []}
    for rel, lang_rel, english, have in _translations(root, lang, spec):
        changed, unrecorded = _stale(rel, {at: en for at, en in english.items() if at in have},
                                     recorded.get(rel, {}))
        out["changed"] += [(lang_rel, *_where(at)) for at in changed]
        out["unrecorded"] += [(lang_rel, *_where(at)) for at in unrecorded]
    return out


def confirm(root: str, lang: str, files=()) -> list:
    """Record the English each translated text now stands for (after a reviewer has checked the
    translations): every file, or only ``files`` (names as ``placement/radiation.yaml`` or
    ``i18n/es/placement/radiation.yaml``). Records of ids that are gone are dropped.
    Returns [(translation file, number of texts whose record changed)]."""
    spec, _ = text_paths(root)
    recorded = read_from(root, lang)
    wanted = {f.split(f"i18n/{lang}/", 1)[-1] for f in files}
    out, done, rels = {}, [], set()
    for rel, lang_rel, english, have in _translations(root, lang, spec):
        rels.add(rel)
        old = recorded.get(rel, {})
        new = {at: old[at] for at in english if at in have and at in old}
        if not wanted or rel in wanted:
            new.update({at: fingerprint(en) for at, en in english.items() if at in have})
            done.append((lang_rel, sum(1 for at in new if old.get(at) != new[at])))
        if new:
            out[rel] = _nest(new)
    path, rel = _from_path(root, lang)
    unknown = wanted - rels
    if unknown:
        raise RuleBookError(rel, None, f"no rule book text file named {sorted(unknown)}")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(f"# The English each text of rules/i18n/{lang}/ was translated from: a fingerprint "
                 "per text\n# (bonemets/i18n.py). Written by `python -m bonemets.i18n "
                 f"{lang} --confirm` once a reviewer\n# has checked that the translations say what "
                 "the English says now; never edited by hand.\n")
        yaml.safe_dump(out, fh, allow_unicode=True, sort_keys=True, width=100)
    return done


def check_languages(root: str, languages) -> tuple:
    """For ``flask rules check``: ([problem], [warning]) of every language but English. A
    problem stops the app (a text missing, unknown or out of date); a warning does not."""
    problems, warnings = [], []
    for lang in languages:
        if lang == SOURCE_LANGUAGE:
            continue
        try:
            load_language(root, lang)
        except RuleBookError as exc:
            problems.append(f"language '{lang}': {exc}")
        try:
            stale = stale_texts(root, lang)
        except RuleBookError as exc:
            problems.append(f"language '{lang}': {exc}")
            continue
        for file, rid, field in stale["changed"]:
            problems.append(f"{file}" + (f", id '{rid}'" if rid else "") + f": '{field}' is out of "
                            "date (the English changed since it was translated)")
        for file, rid, field in stale["unrecorded"]:
            warnings.append(f"{file}" + (f", id '{rid}'" if rid else "") + f": '{field}' has no "
                            f"record of the English it was translated from (python -m "
                            f"bonemets.i18n {lang} --confirm {file})")
    return problems, warnings


def main(argv=None) -> int:
    """``python -m bonemets.i18n LANG``: add the texts a language lacks (in English, to translate)
    and list the out-of-date ones; ``--confirm [FILE ...]``: record the English the (checked)
    translations now stand for."""
    import argparse

    from .paths import RULES_DIR
    ap = argparse.ArgumentParser(prog="python -m bonemets.i18n")
    ap.add_argument("lang")
    ap.add_argument("--confirm", nargs="*", metavar="FILE",
                    help="record the current English for every text (or those of FILE)")
    ap.add_argument("--rules", default=RULES_DIR)
    args = ap.parse_args(argv)
    if args.confirm is not None:
        for rel, n in confirm(args.rules, args.lang, args.confirm):
            if n:
                print(f"{rel}: recorded the English of {n} text(s)")
        return 0
    for rel, n in skeleton(args.rules, args.lang):
        if n:
            print(f"{rel}: {n} text(s) to translate")
    stale = stale_texts(args.rules, args.lang)
    for file, rid, field in stale["changed"]:
        print(f"{file}, id '{rid}': '{field}' is out of date (the English changed)")
    return 1 if stale["changed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
