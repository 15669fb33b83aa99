"""The rule book loader: one table, one schema per rule file, checks run from the table.

Every file of ``rules/`` is declared once in :data:`TABLE` (a :class:`RuleFile`): its name (or
pattern), its schema and its builder. :func:`load_rulebook` reads each file in table order
(through the language ``overlay`` when there is one: ``rules/i18n/<lang>/<file>`` puts that
language's texts in, :mod:`bonemets.i18n`, so a translated file is checked by the same schema),
checks it against its schema, and hands the checked data to the builder, which makes the rule
book's objects (:class:`~bonemets.rules.Field`, :class:`~bonemets.rules.Rule`, ...). The files
checked against the finished :class:`~bonemets.rules.RuleBook` (``safety.yaml``,
``record.yaml``) come last.

A schema is data made of a few kinds of value (:class:`Text`, :class:`Str`, :class:`Date`,
:class:`Int`, :class:`OneOf`, :class:`Ref`, :class:`Refs`, :class:`Sentences`, :class:`Words`,
:class:`When`, ...) and three containers: :class:`Item` (a mapping with required and optional
keys, each of a kind), :class:`ListOf` and :class:`KeyedBy` (a list of items, or a mapping from
ids to items). A container may ``register`` its ids (``options``, ``sources``, ``fields``, ...):
a :class:`Ref` or :class:`Refs` in a later file is then checked against them ("cites a known
source", "names a known option"). Every problem raises :class:`~bonemets.rules.RuleBookError`
naming the file and the rule (or entry) id.

Why not a JSON Schema library: the messages are for rule authors ("cites unknown source 'X'
(not in sources.yaml)", "write 'known: false' instead of the value 'unknown'"), the ids to name
are the rule book's own, YAML gives dates, and half of the checks are references into files
read earlier; a general validator would need all of that added back around it.

Pure: no Flask; files are read once, here.
"""
from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass, field as _field
from typing import Any, Callable, Mapping

import yaml

from .rules import (
    GROUPS, RULE_GROUPS, UNKNOWN, URGENCIES, Condition, Field, Matcher, Rule, RuleBook,
    RuleBookError, Section,
)

__all__ = ["load_rulebook", "load_file", "TABLE", "RuleFile", "OPTION_FIELDS", "SOURCE_KINDS",
           "Item", "ListOf", "KeyedBy", "Text", "Str", "Date", "Int", "OneOf", "Ref", "Refs",
           "Sentences", "Words", "When", "Anything"]


# --------------------------------------------------------------------------------------------
# Reading and failing
# --------------------------------------------------------------------------------------------
def _read_yaml(path: str, rel: str):
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        raise RuleBookError(rel, None, f"is not valid YAML: {exc}") from None
    except OSError as exc:
        raise RuleBookError(rel, None, f"cannot be read: {exc.strerror}") from None


def _expect(cond: bool, rel: str, rule_id: str | None, message: str):
    if not cond:
        raise RuleBookError(rel, rule_id, message)


class _Ctx:
    """What the checks of one file know: its name, and the ids registered by earlier files."""

    def __init__(self, rel: str, known: dict, fields: Mapping):
        self.rel, self.known, self.fields = rel, known, fields

    def expect(self, cond, rid, message):
        if not cond:
            raise RuleBookError(self.rel, rid, message)


# --------------------------------------------------------------------------------------------
# Kinds of value. Each checks one value (``key`` names it in messages, ``rid`` is the rule or
# entry the error names) and returns it cleaned.
# --------------------------------------------------------------------------------------------
class Kind:
    says_missing = False  # True: a missing key gets this kind's own message, not "is missing"

    def check(self, v, key, rid, cx: _Ctx):
        raise NotImplementedError


@dataclass(frozen=True)
class Anything(Kind):
    """Checked by the builder (numbers whose meaning depends on other keys)."""

    def check(self, v, key, rid, cx):
        return v


@dataclass(frozen=True)
class Text(Kind):
    """Words a person reads: a non-empty string, its whitespace folded."""
    message: str = "needs a plain-language '{key}'"

    def check(self, v, key, rid, cx):
        cx.expect(isinstance(v, str) and v.strip(), rid, self.message.format(key=key))
        return " ".join(v.split())


@dataclass(frozen=True)
class Str(Kind):
    """A non-empty string kept as written (a version, a URL, an id)."""
    says_missing: bool = False

    def check(self, v, key, rid, cx):
        cx.expect(isinstance(v, str) and v.strip(), rid, f"needs '{key}'")
        return v


@dataclass(frozen=True)
class Date(Kind):
    def check(self, v, key, rid, cx):
        cx.expect(isinstance(v, _dt.date), rid, f"needs a '{key}' date written as YYYY-MM-DD")
        return v


@dataclass(frozen=True)
class Int(Kind):
    """A whole number (``minimum`` included), or null when ``null``."""
    minimum: int | None = None
    null: bool = False
    message: str = "'{key}' must be a whole number"

    def check(self, v, key, rid, cx):
        if v is None and self.null:
            return v
        cx.expect(isinstance(v, int) and not isinstance(v, bool)
                  and (self.minimum is None or v >= self.minimum), rid, self.message.format(key=key))
        return v


@dataclass(frozen=True)
class Number(Kind):
    def check(self, v, key, rid, cx):
        cx.expect(isinstance(v, (int, float)) and not isinstance(v, bool), rid,
                  f"'{key}' must be a number")
        return v


@dataclass(frozen=True)
class OneOf(Kind):
    """One of ``values`` (or, with ``many``, one of them or a list of them)."""
    values: tuple
    message: str = "{key} must be one of {values}"
    says_missing: bool = False
    many: bool = False

    def check(self, v, key, rid, cx):
        vs = v if self.many and isinstance(v, list) else [v]
        ok = bool(vs) and all(isinstance(x, str) and x in self.values for x in vs)
        cx.expect(ok, rid, self.message.format(key=key, value=v, values=", ".join(self.values)))
        return list(vs) if self.many else v


@dataclass(frozen=True)
class Ref(Kind):
    """The id of something registered by an earlier file (``table``: ``options``, ...)."""
    table: str
    what: str

    def check(self, v, key, rid, cx):
        cx.expect(isinstance(v, str) and v in cx.known[self.table], rid,
                  f"names unknown {self.what} '{v}'")
        return v


@dataclass(frozen=True)
class Refs(Kind):
    """A non-empty list of ids of one table. Sources get the messages rule authors know."""
    table: str
    what: str
    message: str = "'{key}' must be a list"

    def check(self, v, key, rid, cx):
        known = cx.known[self.table]
        if self.table == "sources":
            cx.expect(isinstance(v, list) and v, rid, "needs at least one source key in 'sources'")
            for k in v:
                cx.expect(k in known, rid, f"cites unknown source '{k}' (not in sources.yaml)")
        else:
            cx.expect(isinstance(v, list) and v, rid, self.message.format(key=key))
            for k in v:
                cx.expect(isinstance(k, str) and k in known, rid, f"names unknown {self.what} '{k}'")
        return tuple(v)


SOURCES = Refs("sources", "source")


@dataclass(frozen=True)
class Sentences(Kind):
    """A non-empty list of sentences (texts)."""

    def check(self, v, key, rid, cx):
        cx.expect(isinstance(v, list) and v, rid, f"'{key}' must be a non-empty list")
        cx.expect(all(isinstance(i, str) and i.strip() for i in v), rid,
                  f"'{key}' must be a list of sentences")
        return list(v)


@dataclass(frozen=True)
class Words(Kind):
    """A list (maybe empty) of ids or free words."""

    def check(self, v, key, rid, cx):
        cx.expect(isinstance(v, list) and all(isinstance(i, str) and i.strip() for i in v),
                  rid, f"'{key}' must be a list of ids or words")
        return list(v)


@dataclass(frozen=True)
class TextsBy(Kind):
    """A non-empty mapping from ids of one table to texts (an option's ``priorities``)."""
    table: str
    what: str

    def check(self, v, key, rid, cx):
        cx.expect(isinstance(v, dict) and v, rid, f"'{key}' must be a non-empty mapping")
        for k, text in v.items():
            cx.expect(k in cx.known[self.table], rid, f"'{key}' names unknown {self.what} '{k}'")
            cx.expect(isinstance(text, str) and text.strip(), rid, f"'{key}: {k}' needs a text")
        return dict(v)


@dataclass(frozen=True)
class Mapping_(Kind):
    """A mapping (its contents checked by the builder, or free: names and taglines)."""
    message: str = "'{key}' must be a mapping"

    def check(self, v, key, rid, cx):
        cx.expect(isinstance(v, dict), rid, self.message.format(key=key))
        return v


@dataclass(frozen=True)
class When(Kind):
    """A condition in the rule book's condition language (see :mod:`bonemets.rules`)."""

    def check(self, v, key, rid, cx):
        return _compile_when(v, cx.fields, cx.rel, rid)


# --------------------------------------------------------------------------------------------
# Containers
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Item(Kind):
    """A mapping with ``required`` and ``optional`` keys, each of a kind (checked in the order
    written). ``one_of``: pairs of keys of which exactly one is given. ``rules``: checks across
    keys, ``fn(item, rid, cx)`` on the checked item. ``open``: other keys are allowed.
    An Item at the top of a file is a document: the errors of its sections name the section."""
    required: Mapping = _field(default_factory=dict)
    optional: Mapping = _field(default_factory=dict)
    one_of: tuple = ()
    rules: tuple = ()
    not_mapping: str = "must be a mapping"
    open: bool = False

    def check(self, v, key, rid, cx):
        cx.expect(isinstance(v, dict), rid, self.not_mapping.format(key=key))
        missing = [k for k, kind in self.required.items() if k not in v and not kind.says_missing]
        cx.expect(not missing, rid, f"is missing {', '.join(repr(m) for m in missing)}")
        extra = set(v) - set(self.required) - set(self.optional)
        cx.expect(self.open or not extra, rid, f"has unknown keys {sorted(extra, key=str)}")
        for keys in self.one_of:
            cx.expect(sum(k in v for k in keys) == 1, rid,
                      "needs exactly one of " + (" or ".join(f"'{k}'" for k in keys)
                                                 if len(keys) == 2 else ", ".join(keys)))
        out = dict(v) if self.open else {}
        for k, kind in (*self.required.items(), *self.optional.items()):
            if k in v or (k in self.required and kind.says_missing):
                sub = (k if rid is None else rid) if isinstance(kind, Item) else rid
                out[k] = kind.check(v.get(k), k, sub, cx)
        for rule in self.rules:
            rule(out, rid, cx)
        return out


@dataclass(frozen=True)
class ListOf(Kind):
    """A non-empty list of items. With ``id_key`` each item is named by that key (errors name
    it; ``unique`` names the set of ids it must be unique in: ``rules`` is the whole rule book's
    rule ids; ``clash`` another set it must not reuse), else by its place (``key[i]``).
    ``register``: the ids are known to later files under that name."""
    item: Kind
    what: str = "rule"
    id_key: str | None = "id"
    unique: str | None = None
    duplicate: str = "duplicate {what} id"
    clash: str | None = None
    register: str | None = None
    empty: str = "must be a list of {what}s"
    allow_empty: bool = False

    def check(self, v, key, rid, cx):
        cx.expect(isinstance(v, list) and (v or self.allow_empty), rid,
                  self.empty.format(what=self.what, key=key))
        seen = cx.known.setdefault(self.unique, set()) if self.unique else set()
        out = []
        for i, item in enumerate(v):
            if self.id_key is None:
                out.append(self.item.check(item, key, f"{rid}/{key}[{i}]" if rid else f"{key}[{i}]", cx))
                continue
            iid = item.get(self.id_key) if isinstance(item, dict) else None
            cx.expect(isinstance(iid, str) and iid.strip(), rid,
                      f"every {self.what} needs an '{self.id_key}'")
            where = f"{rid}/{iid}" if rid else iid
            cx.expect(iid not in seen, where, self.duplicate.format(what=self.what))
            if self.clash:
                cx.expect(iid not in cx.known.get(self.clash, ()), where,
                          "this id is already used by a rule")
            seen.add(iid)
            out.append(self.item.check(item, key, where, cx))
        if self.register:
            cx.known[self.register] = {o[self.id_key] for o in out}
        return out


@dataclass(frozen=True)
class KeyedBy(Kind):
    """A mapping from ids to items. ``keys``: a Ref the ids must satisfy (``bad_key``: its
    message); ``register``: the ids are known to later files under that name."""
    item: Kind
    register: str | None = None
    keys: Ref | None = None
    bad_key: str | None = None
    not_mapping: str = "must map ids to entries"
    non_empty: bool = True
    entry: str = "each entry must be a mapping"

    def check(self, v, key, rid, cx):
        cx.expect(isinstance(v, dict) and (v or not self.non_empty), rid,
                  self.not_mapping.format(key=key))
        if self.keys is not None:
            for k in v:
                cx.expect(k in cx.known[self.keys.table], str(k),
                          self.bad_key or f"names unknown {self.keys.what} '{k}'")
        if self.register:
            cx.known[self.register] = set(v)
        out = {}
        for k, item in v.items():
            if isinstance(self.item, Item):
                cx.expect(isinstance(item, dict), str(k), self.entry)
            out[k] = self.item.check(item, key, str(k), cx)
        return out


# --------------------------------------------------------------------------------------------
# The condition language
# --------------------------------------------------------------------------------------------
_MATCHER_KEYS = {"any", "none", "all", "known", "min", "max"}


def _compile_when(when, fields, rel, rule_id) -> Condition:
    _expect(isinstance(when, dict), rel, rule_id, "'when' must be a mapping of question -> answer(s)")
    matchers = []
    for fname, spec in when.items():
        f = fields.get(fname)
        _expect(f is not None, rel, rule_id, f"'when' names unknown field '{fname}'")
        if not isinstance(spec, dict):
            spec = {"any": spec}
        extra = set(spec) - _MATCHER_KEYS
        _expect(not extra, rel, rule_id, f"'{fname}' has unknown condition keys {sorted(extra)}")
        kw: dict = {}
        for key in ("any", "none", "all"):
            if key not in spec:
                continue
            vals = spec[key]
            vals = list(vals) if isinstance(vals, list) else [vals]
            _expect(vals, rel, rule_id, f"'{fname}: {key}' needs at least one value")
            _expect(f.kind != "number", rel, rule_id, f"'{fname}' is a number: use min/max")
            _expect(key != "all" or f.kind == "many", rel, rule_id,
                    f"'all' only works for tick-all questions, not '{fname}'")
            for v in vals:
                _expect(not isinstance(v, bool), rel, rule_id,
                        f"'{fname}': write \"yes\" and \"no\" in quotes (YAML reads bare yes/no as true/false)")
                _expect(v in f.values, rel, rule_id, f"'{fname}' has no value '{v}'")
                _expect(v != UNKNOWN, rel, rule_id,
                        f"'{fname}': write 'known: false' instead of the value 'unknown'")
            kw[key] = frozenset(vals)
        if "known" in spec:
            _expect(isinstance(spec["known"], bool), rel, rule_id, f"'{fname}: known' must be true or false")
            kw["known"] = spec["known"]
        for key in ("min", "max"):
            if key in spec:
                _expect(f.kind == "number", rel, rule_id, f"'{key}' only works for number questions")
                _expect(isinstance(spec[key], int), rel, rule_id, f"'{fname}: {key}' must be a whole number")
                kw[key] = spec[key]
        _expect(kw, rel, rule_id, f"'{fname}' has an empty condition")
        matchers.append(Matcher(fname, **kw))
    return Condition(tuple(matchers))


# The helpers safety.py (and older callers) use, kept with their old signatures.
def _check_keys(item, required, optional, rel, rule_id):
    missing = [k for k in required if k not in item]
    _expect(not missing, rel, rule_id, f"is missing {', '.join(repr(m) for m in missing)}")
    extra = set(item) - set(required) - set(optional)
    _expect(not extra, rel, rule_id, f"has unknown keys {sorted(extra)}")


def _text(item, key, rel, rule_id):
    v = item.get(key)
    _expect(isinstance(v, str) and v.strip(), rel, rule_id, f"needs a plain-language '{key}'")
    return " ".join(v.split())


def _as_date(value, rel, rule_id):
    _expect(isinstance(value, _dt.date), rel, rule_id,
            "needs a 'reviewed' date written as YYYY-MM-DD")
    return value


def _sources(value, known, rel, rule_id):
    _expect(isinstance(value, list) and value, rel, rule_id, "needs at least one source key in 'sources'")
    for key in value:
        _expect(key in known, rel, rule_id, f"cites unknown source '{key}' (not in sources.yaml)")
    return tuple(value)


# --------------------------------------------------------------------------------------------
# The schemas
# --------------------------------------------------------------------------------------------
SOURCE_KINDS = ("guideline", "trial", "product_label", "review", "patient_information",
                "secondary_copy", "other")

# Every catalog entry has every one of these, filled in (IPDAS: same depth for every option).
OPTION_FIELDS = {
    "name": Text(), "also_called": Text(), "what_it_is": Text(), "how_given": Text(),
    "how_soon": Text(), "visits": Text(), "benefits": Sentences(), "downsides": Sentences(),
    "daily_life": Text(), "questions": Sentences(), "priorities": TextsBy("priority_values", "value"),
    "sources": SOURCES, "reviewed": Date(),
}
REVIEWED = {"sources": SOURCES, "reviewed": Date()}


def _rules(item: Item) -> ListOf:
    """A list of rules: each has an id unique in the whole rule book."""
    return ListOf(item, unique="rules", allow_empty=True, empty="must be a list of rules",
                  duplicate="duplicate rule id (ids must be unique in the rule book)")


def _field_rules(f, rid, cx):
    if f["kind"] == "number":
        cx.expect(isinstance(f.get("min"), int) and isinstance(f.get("max"), int), rid,
                  "a number field needs integer 'min' and 'max'")
    else:
        cx.expect(isinstance(f.get("choices"), dict) and f["choices"], rid, "needs 'choices'")
        for v in f.get("exclusive") or ():
            cx.expect(str(v) in {str(k) for k in f["choices"]}, rid, f"'exclusive' names unknown value '{v}'")


def _followups_name_answers(q, rid, cx):
    """``only_if`` names a question and some of its answers; sections place every field."""
    fields = q["fields"]
    for name, f in fields.items():
        for lead, values in (f.get("only_if") or {}).items():
            cx.expect(lead in fields and lead != name, name, f"'only_if' names unknown field '{lead}'")
            choices = {str(k) for k in (fields[lead].get("choices") or {})}
            for v in values if isinstance(values, list) else [values]:
                cx.expect(str(v) in choices, name, f"'only_if': '{lead}' has no value '{v}'")
    placed = {n for s in q["sections"] for n in s["fields"]}
    missing = set(fields) - placed
    cx.expect(not missing, None, f"fields not placed in any section: {sorted(missing)}")


QUESTIONNAIRE = Item(
    required={
        # fields first: the sections name them
        "fields": KeyedBy(Item(
            required={"kind": OneOf(("one", "many", "number"), "kind must be one, many or number",
                                    says_missing=True),
                      "label": Text("needs a 'label'")},
            optional={"summary_label": Text(), "hint": Text(), "choices": Mapping_(), "only_if": Mapping_(),
                      "exclusive": Words(), "min": Int(), "max": Int()},
            rules=(_field_rules,), not_mapping="each field must be a mapping"),
            register="fields", entry="each field must be a mapping"),
        "sections": ListOf(Item(required={"id": Str(), "title": Text(),
                                          "fields": Refs("fields", "field")},
                                optional={"intro": Text()}),
                           what="section", unique="sections"),
    },
    rules=(_followups_name_answers,),
    not_mapping="needs 'sections' (a list) and 'fields' (a mapping)")


def _vocabulary_names_answers(v, rid, cx):
    pf = cx.fields.get(v["priorities_field"])
    cx.expect(pf is not None and pf.kind == "many", rid,
              f"'priorities_field' must name a tick-all question, not '{v['priorities_field']}'")
    values = {x for f in cx.fields.values() for x in f.values}
    for a in (v["dont_know"], *v["unsure_answers"]):
        cx.expect(a in values, rid, f"names unknown answer value '{a}'")
    cx.expect(v["dont_know"] == UNKNOWN, rid, f"'dont_know' is the engine's '{UNKNOWN}'")


def _precedence(meta, rid, cx):
    cx.expect(sorted(meta["precedence"]) == sorted(RULE_GROUPS), rid,
              f"precedence must list {list(RULE_GROUPS)}")
    cx.expect(sorted(meta["groups"]) == sorted(GROUPS), rid,
              f"'groups' must give {', '.join(GROUPS)}")
    cx.expect(sorted(meta["urgency"]) == sorted(URGENCIES), rid,
              f"'urgency' must give {', '.join(URGENCIES)}")


_SCORE_KEYS = ("flesch_kincaid_grade", "smog_index")
META = Item(
    required={
        "version": Str(), "reviewed": Date(), "review_interval_days": Int(minimum=1),
        "caveat": Text(), "precedence": Words(), "emergency_notice": Text(),
        "groups": KeyedBy(Item(required={"heading": Text(), "short": Text()},
                               optional={"intro": Text()})),
        "urgency": KeyedBy(Item(required={"heading": Text(), "instruction": Text()})),
        "readability": Item(
            required={"measured": Date(), "tool": Text("needs the 'tool' that measured the scores"),
                      "scores": ListOf(Item(required={"what": Text(), **{k: Number() for k in _SCORE_KEYS}}),
                                       id_key=None, what="score", empty="needs a list of 'scores'")},
            not_mapping="needs 'readability' (measured, tool, scores)"),
    },
    optional={
        "review_note": Text(),
        "emergency": Item(required={"numbers": Mapping_(), "call": Text()}),
        "vocabulary": Item(required={"dont_know": Str(), "unsure_answers": Words(),
                                     "priorities_field": Str(),
                                     "listed_groups": OneOf(GROUPS, "'{key}' must name groups of "
                                                            "{values}", many=True)},
                           rules=(_vocabulary_names_answers,)),
        "ordering": Item(required={"lead_rules": Words()}),
        "languages": KeyedBy(Item(required={"name": Text(), "tagline": Text()})),
        "translations": KeyedBy(Item(open=True)),
    },
    rules=(_precedence,))

SOURCE = Item(
    required={"org": Str(says_missing=True), "title": Str(says_missing=True),
              "url": Str(says_missing=True),
              "kind": OneOf(SOURCE_KINDS, "needs a 'kind', one of: {values}", says_missing=True)},
    optional={"year": Int(null=True, message="year must be a whole number or null"),
              "covers": Words(), "topics": Words(),
              "note": Str()})  # where or how we read it: for reviewers, shown on /rules only

OPTION = Item(required={"id": Str(), **OPTION_FIELDS})

PLACEMENT = Item(required={"id": Str(), "group": OneOf(RULE_GROUPS), "when": When(),
                           "because": Text(), **REVIEWED},
                 optional={"option": Ref("options", "option"), "options": Refs("options", "option")},
                 one_of=(("option", "options"),))

RED_FLAGS = Item(required={
    "flags": KeyedBy(Item(required={"urgency": OneOf(URGENCIES), "title": Text(),
                                    "action": Text(), **REVIEWED}), register="flags"),
    "rules": _rules(Item(required={"id": Str(), "flag": Ref("flags", "red flag"), "when": When(),
                                   "because": Text(), **REVIEWED})),
}, not_mapping="needs 'flags' and 'rules'")

CAUTIONS = Item(required={
    "cautions": KeyedBy(Item(required={"title": Text()}), register="cautions",
                        entry="each caution must be a mapping"),
    "rules": _rules(Item(required={"id": Str(), "caution": Ref("cautions", "caution"),
                                   "options": Refs("options", "option"), "when": When(),
                                   "text": Text(), **REVIEWED})),
}, not_mapping="needs 'cautions' and 'rules'")

QUESTIONS = Item(required={
    "rules": _rules(Item(required={"id": Str(), "when": When(), "text": Text(), **REVIEWED})),
}, not_mapping="needs 'rules'")

GLOSSARY = ListOf(Item(required={"term": Text(), "means": Text()}),
                  what="term", id_key="term", unique="terms", empty="must be a list of terms")


def _outcome_schema():
    from .outcomes import CERTAINTIES, FRAME_KEYS, KINDS, OUTCOME_KEYS
    kinds = {"id": Str(), "kind": OneOf(KINDS), "sources": SOURCES,
             "certainty": OneOf(CERTAINTIES, "certainty '{value}' is not one of {values}"),
             "with": Anything(), "without": Anything(), "per": Anything(), "range": Anything()}
    item = Item(required={k: kinds.get(k, Text()) for k in OUTCOME_KEYS},
                optional={k: Anything() for k in FRAME_KEYS})  # needed with a number: the builder
    return Item(required={
        "reviewed": Date(),
        "outcomes": KeyedBy(
            ListOf(item, what="outcome", duplicate="duplicate outcome id for this option",
                   empty="has no outcomes: every option in options.yaml needs its main benefit "
                         "and harm"),
            keys=Ref("options", "option"),
            bad_key="gives outcomes for an option that is not in options.yaml"),
    }, not_mapping="needs 'reviewed' (a date) and 'outcomes' (option id -> list of outcomes)")


def _decision_schema():
    from .decision import TEXTS
    more = {"nothing_new": {"option": Ref("options", "option")},
            "explainer": {"problems": ListOf(Item(required={"text": Text(), "sources": SOURCES}),
                                             id_key=None, what="problem",
                                             empty="needs a list of 'problems'")}}
    return Item(required={"reviewed": Date(), **{
        name: Item(required={**{k: Text() for k in texts}, **more.get(name, {}), "sources": SOURCES},
                   not_mapping="is missing or not a mapping")
        for name, texts in TEXTS.items()}})


def _safety_schema():
    from .safety import AT_LEAST, KINDS
    options = {"option": Ref("options", "option"), "options": Refs("options", "option")}
    one = (("option", "options"),)
    kinds = {
        "never": Item(required={"group": OneOf(GROUPS, "group must be one of {values}", many=True)},
                      optional=options, one_of=one,
                      not_mapping="needs a mapping with 'option' or 'options'"),
        "at_least": Item(required={"group": OneOf(tuple(AT_LEAST), "at_least needs group: "
                                                  "consider or group: discuss")},
                         optional=options, one_of=one,
                         not_mapping="needs a mapping with 'option' or 'options'"),
        "flag": _FlagOrFlags(),
        "caution": Item(required={"id": Ref("cautions", "caution")}, optional=options, one_of=one,
                        not_mapping="needs a mapping with 'option' or 'options'"),
        "not_first_in_group": Item(required={
            "group": OneOf(RULE_GROUPS[:2], "group must be one of {values}", many=True),
            "options": Refs("options", "option"), "after_one_of": Refs("options", "option")},
            rules=(_not_first_rules,)),
    }
    return ListOf(Item(required={"id": Str(), "when": When(), "reason": Text(), **REVIEWED},
                       optional=kinds, one_of=(tuple(KINDS),)),
                  what="invariant", unique="invariants", clash="rules")


class _FlagOrFlags(Kind):
    def check(self, v, key, rid, cx):
        flags = v if isinstance(v, list) else [v]
        cx.expect(flags and all(isinstance(f, str) for f in flags), rid,
                  "'flag' must be a red flag id or a list of them")
        return Refs("flags", "red flag").check(flags, key, rid, cx)


def _not_first_rules(spec, rid, cx):
    cx.expect(len(spec["group"]) == 1, rid, "not_first_in_group names one group")
    cx.expect(not set(spec["options"]) & set(spec["after_one_of"]), rid,
              "an option cannot be in both 'options' and 'after_one_of'")


def _record_schema():
    code = Item(required={"code": Str(), "display": Str()},
                not_mapping="each code needs 'code' (in quotes) and 'display'")
    return Item(required={
        "reviewed": Date(),
        "max_age_days": Int(minimum=1, message="'max_age_days' must be a whole number of days"),
        "conditions": Item(required={"field": Ref("fields", "field"), "system": Str(),
                                     "codes": KeyedBy(ListOf(code, id_key=None, what="code",
                                                             empty="needs codes")),
                                     **{"sources": SOURCES}},
                           not_mapping="needs 'field', 'system' and 'codes'"),
        "observations": KeyedBy(Item(
            required={"codes": ListOf(code, id_key=None, what="code", empty="needs 'codes'"),
                      "sources": SOURCES},
            optional={"units": Words(), "interpretation": Mapping_(), "answers": Mapping_(),
                      "bands": ListOf(Item(required={"min": Number(), "value": Str()},
                                           optional={"max": Number()},
                                           not_mapping="each band needs a number 'min' and a 'value'"),
                                      id_key=None, what="band")}),
            keys=Ref("fields", "field")),
    })


# --------------------------------------------------------------------------------------------
# Builders: checked data -> the rule book's objects (``b`` collects them, by name)
# --------------------------------------------------------------------------------------------
def _build_meta(meta, b, cx):
    b["meta"] = meta
    fields = cx.fields
    pf = meta.get("vocabulary", {}).get("priorities_field")
    cx.known["priority_values"] = set(fields[pf].values) if pf in fields else set()


def _build_questionnaire(q, b, cx):
    fields = {}
    for name, spec in q["fields"].items():
        choices = spec.get("choices") or {}
        fields[name] = Field(
            name=name, kind=spec["kind"], label=spec["label"], hint=str(spec.get("hint", "")),
            summary_label=spec.get("summary_label", spec["label"]),
            choices=tuple((str(k), str(v)) for k, v in choices.items()),
            only_if={k: tuple(v if isinstance(v, list) else [v])
                     for k, v in (spec.get("only_if") or {}).items()},
            exclusive=frozenset(spec.get("exclusive") or ()),
            min=spec.get("min"), max=spec.get("max"))
    b["fields"] = fields
    cx.fields.update(fields)
    b["sections"] = tuple(Section(s["id"], s["title"], s.get("intro", ""), tuple(s["fields"]))
                          for s in q["sections"])


def _build_sources(data, b, cx):
    """Each source says what kind of document it is and what it is evidence for (``covers``:
    option, red-flag and caution ids, checked against the rules once they are read; ``topics``:
    anything else, free words). ``note`` (where or how we read the text) is kept apart, in
    ``source_notes``: only the rule book page shows it, so a plan's sources (the JSON plan, the
    results page, the summary, the PDF) stay as they were."""
    b["sources"] = {key: {"title": s["title"], "org": s["org"], "year": s.get("year"),
                          "url": s["url"], "kind": s["kind"],
                          "secondary": s["kind"] == "secondary_copy",
                          "covers": list(s.get("covers", [])), "topics": list(s.get("topics", []))}
                    for key, s in data.items()}
    b["source_notes"] = {key: s["note"] for key, s in data.items() if "note" in s}


def _build_options(catalog, b, cx):
    b["options"] = {e["id"]: dict(e, sources=list(e["sources"])) for e in catalog}


def _build_outcomes(data, b, cx):
    from .outcomes import build_outcomes
    for oid, outs in build_outcomes(data, b["options"], b["sources"]).items():
        b["options"][oid]["outcomes"] = outs


def _rule(item, kind, text_key, cx, **extra) -> Rule:
    return Rule(id=item["id"], kind=kind, file=cx.rel, when=item["when"], text=item[text_key],
                sources=item["sources"], reviewed=item["reviewed"], **extra)


def _build_placement(items, b, cx):
    for item in items:
        opts = (item["option"],) if "option" in item else item["options"]
        b["placement"].append(_rule(item, "placement", "because", cx, options=tuple(opts),
                                    group=item["group"]))


def _build_red_flags(data, b, cx):
    b["flags"] = {fid: {"urgency": d["urgency"], "title": d["title"], "action": d["action"],
                        "sources": d["sources"], "reviewed": d["reviewed"]}
                  for fid, d in data["flags"].items()}
    b["flag_rules"] = [_rule(i, "red_flag", "because", cx, flag=i["flag"]) for i in data["rules"]]


def _build_cautions(data, b, cx):
    b["cautions"] = {cid: {"title": d["title"]} for cid, d in data["cautions"].items()}
    b["caution_rules"] = [_rule(i, "caution", "text", cx, options=tuple(i["options"]),
                                caution=i["caution"]) for i in data["rules"]]


def _build_questions(data, b, cx):
    b["question_rules"] = [_rule(i, "question", "text", cx) for i in data["rules"]]


def _build_glossary(items, b, cx):
    b["glossary"] = tuple({"term": i["term"], "means": i["means"]} for i in items)
    _check_evidence(b["sources"], b["options"], b["flags"], b["cautions"], b["placement"],
                    b["flag_rules"], b["caution_rules"])


def _build_decision(data, b, cx):
    d = {"reviewed": data["reviewed"]}
    for name in ("decision", "nothing_new", "explainer"):
        d[name] = dict(data[name])
    d["explainer"]["problems"] = tuple(data["explainer"]["problems"])
    b["decision"] = d


def _build_safety(items, rb, cx):
    from .safety import build_invariants
    rb.safety = build_invariants(items, rb)


def _build_record(data, rb, cx):
    from .fhir import build_record_map
    rb.record_map = build_record_map(data, rb)


def _check_evidence(sources, options, flags, cautions, placement, flag_rules, caution_rules):
    """Every rule rests on sources that are evidence for what it says (their ``covers``).

    * a catalog entry: every source covers the option;
    * a red flag, and every rule raising it: every source covers the flag;
    * a placement rule: every source covers at least one of the rule's options, and every option
      is covered by at least one of its sources (so a source about something else is refused);
    * a caution rule: every source covers the caution or one of its options, and at least one
      covers the caution itself.
    Question rules are not checked: a question may rest on a source about its topic.
    """
    known = set(options) | set(flags) | set(cautions)
    for key, s in sources.items():
        unknown = [c for c in s["covers"] if c not in known]
        _expect(not unknown, "sources.yaml", key,
                f"'covers' names unknown option, flag or caution {unknown}")
    covers = {k: set(s["covers"]) for k, s in sources.items()}

    def not_evidence(key, what):
        return (f"cites source '{key}', which is not evidence for {what} "
                f"(its 'covers' in sources.yaml: {sorted(covers[key]) or 'nothing'})")

    for oid, entry in options.items():
        for key in entry["sources"]:
            _expect(oid in covers[key], "options.yaml", oid, not_evidence(key, f"'{oid}'"))
    for fid, d in flags.items():
        for key in d["sources"]:
            _expect(fid in covers[key], "red_flags.yaml", fid, not_evidence(key, f"red flag '{fid}'"))
    for r in flag_rules:
        for key in r.sources:
            _expect(r.flag in covers[key], r.file, r.id, not_evidence(key, f"red flag '{r.flag}'"))
    for r in placement:
        for key in r.sources:
            _expect(covers[key] & set(r.options), r.file, r.id,
                    not_evidence(key, "any of " + ", ".join(f"'{o}'" for o in r.options)))
        for o in r.options:
            _expect(any(o in covers[k] for k in r.sources), r.file, r.id,
                    f"no cited source is evidence for option '{o}' (add one whose 'covers' names it)")
    for r in caution_rules:
        wanted = {r.caution, *r.options}
        for key in r.sources:
            _expect(covers[key] & wanted, r.file, r.id,
                    not_evidence(key, f"caution '{r.caution}' or its options"))
        _expect(any(r.caution in covers[k] for k in r.sources), r.file, r.id,
                f"no cited source is evidence for caution '{r.caution}'")


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RuleFile:
    """One file (or, for ``placement/*.yaml``, every file matching the pattern) of ``rules/``.

    ``schema``: a Kind, or a function giving one (for schemas made from another module's
    constants); ``build(checked, b, cx)``: puts what it makes into ``b`` (the RuleBook's
    arguments; for ``on_book`` files, the RuleBook itself); ``error``: the error class its
    problems raise (safety.yaml names an "invariant")."""
    name: str
    schema: Any
    build: Callable
    on_book: bool = False
    error: Callable | None = None

    def kind(self) -> Kind:
        return self.schema() if callable(self.schema) and not isinstance(self.schema, Kind) else self.schema


def _safety_error():
    from .safety import SafetyFileError
    return SafetyFileError


# In reading order: a file's references point at files above it.
TABLE = (
    RuleFile("questionnaire.yaml", QUESTIONNAIRE, _build_questionnaire),
    RuleFile("meta.yaml", META, _build_meta),
    RuleFile("sources.yaml", KeyedBy(SOURCE, register="sources", not_mapping="must map keys to sources",
                                     entry="each source must be a mapping"), _build_sources),
    RuleFile("options.yaml", ListOf(OPTION, what="option", duplicate="is listed twice",
                                    register="options", empty="must be a list of options"),
             _build_options),
    RuleFile("outcomes.yaml", _outcome_schema, _build_outcomes),
    RuleFile("placement/*.yaml", _rules(PLACEMENT), _build_placement),
    RuleFile("red_flags.yaml", RED_FLAGS, _build_red_flags),
    RuleFile("cautions.yaml", CAUTIONS, _build_cautions),
    RuleFile("questions.yaml", QUESTIONS, _build_questions),
    RuleFile("glossary.yaml", GLOSSARY, _build_glossary),
    RuleFile("decision.yaml", _decision_schema, _build_decision),
    # checked against the finished rule book
    RuleFile("safety.yaml", _safety_schema, _build_safety, on_book=True, error=_safety_error),
    RuleFile("record.yaml", _record_schema, _build_record, on_book=True),
)
def _names(root: str, entry: RuleFile) -> list:
    """The file, or (``folder/*.yaml``) every YAML file of the folder, in name order."""
    if "*" not in entry.name:
        return [entry.name]
    folder = entry.name.split("/")[0]
    d = os.path.join(root, folder)
    names = sorted(n for n in os.listdir(d) if n.endswith((".yaml", ".yml"))) if os.path.isdir(d) else []
    _expect(names, f"{folder}/", None, "holds no rule files")
    return [f"{folder}/{n}" for n in names]


def _check_file(entry: RuleFile, rel: str, data, target, cx: _Ctx):
    cx.rel = rel
    try:
        entry.build(entry.kind().check(data, rel, None, cx), target, cx)
    except RuleBookError as exc:
        err = entry.error() if entry.error else None
        if err is not None and not isinstance(exc, err):
            raise err(exc.file, exc.rule_id, exc.message) from None
        raise


def _known_of(rb: RuleBook) -> dict:
    return {"fields": set(rb.fields), "sources": set(rb.sources), "options": set(rb.options),
            "flags": set(rb.flags), "cautions": set(rb.cautions), "rules": set(rb.rules_by_id)}


def load_file(root: str, name: str, rb: RuleBook, overlay=None):
    """Check one ``on_book`` file of the table (``safety.yaml``, ``record.yaml``) against a
    loaded rule book and build it on ``rb`` (``rb.safety``, ``rb.record_map``)."""
    entry = next(e for e in TABLE if e.name == name)
    data = _read_yaml(os.path.join(root, name), name)
    if overlay is not None:
        data = overlay(name, data)
    _check_file(entry, name, data, rb, _Ctx(name, _known_of(rb), rb.fields))


def load_rulebook(root: str, overlay=None) -> RuleBook:
    """Read and check every file of :data:`TABLE` under ``root`` (the ``rules/`` folder).
    Raises RuleBookError naming the file and the rule id.

    ``overlay(rel, data) -> data``, when given, is applied to each file as it is read: the
    rule book in another language is the same files with their texts replaced (bonemets/i18n.py),
    checked the same way."""
    files: list = []
    b: dict = {"placement": [], "decision": None}
    cx = _Ctx("", {}, {})
    rb = None
    for entry in TABLE:
        if entry.on_book and rb is None:
            rb = RuleBook(decision=b["decision"], glossary=b["glossary"], meta=b["meta"],
                          sections=b["sections"], fields=b["fields"], options=b["options"],
                          sources=b["sources"], source_notes=b["source_notes"],
                          placement=tuple(b["placement"]),
                          flags=b["flags"], flag_rules=tuple(b["flag_rules"]),
                          cautions=b["cautions"], caution_rules=tuple(b["caution_rules"]),
                          question_rules=tuple(b["question_rules"]), files=())
        for rel in _names(root, entry):
            files.append(rel)
            data = _read_yaml(os.path.join(root, rel), rel)
            if overlay is not None:
                data = overlay(rel, data)
            _check_file(entry, rel, data, rb if entry.on_book else b, cx)
    _refuse_undeclared(root, files)
    rb.files, rb.rules_dir = tuple(files), root
    return rb


def _refuse_undeclared(root: str, files: list) -> None:
    """A YAML file in ``rules/`` (outside ``i18n/``, the languages) that the table does not
    declare is refused: a misspelt file name would otherwise be silently left out."""
    read = set(files)
    for dirpath, dirs, names in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        if rel_dir == "i18n" or rel_dir.startswith("i18n/"):
            dirs[:] = []
            continue
        for n in sorted(names):
            rel = n if rel_dir == "." else f"{rel_dir}/{n}"
            _expect(not n.endswith((".yaml", ".yml")) or rel in read, rel, None,
                    "is not a rule file the loader knows: rename it, or declare it in "
                    "bonemets/loader.py TABLE")
