"""The rule book: load and validate the clinical content in ``rules/``, and turn answers into a Plan.

Pure by design: no Flask, and no I/O after :func:`load_rulebook`. ``RuleBook.plan(answers)`` is a
pure function of the answers and the (immutable) rule book.

Rule conditions are data, never code. A rule's ``when`` is a mapping ``field -> matcher`` and the
rule matches when every matcher holds. A matcher is one of:

* a value, or a list of values: the answer is (or, for a tick-all question, includes) any of them;
* a mapping with one or more of these keys, all of which must hold:
  ``any: [..]`` (as above), ``none: [..]`` (the answer includes none of them; an unanswered
  question includes none), ``all: [..]`` (tick-all questions: includes every one),
  ``known: true|false`` (answered with something other than "I don't know"),
  ``min: n`` / ``max: n`` (number questions: answered and within the bound).

"I don't know" is never written as a value in a condition: use ``known: false``, which also
matches an unanswered question.

Precedence: when several rules place the same option, the group listed first in
``meta.yaml``'s ``precedence`` wins (unlikely > discuss > consider). An option no rule touches is
``other``. Every matching reason is kept, so a person sees why an option might fit and why not.
"""
from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass
from typing import Any, Mapping, NamedTuple

import yaml

from .answers import validate
from .engine import Engine

__all__ = [
    "RuleBookError", "RuleBook", "Plan", "load_rulebook", "GROUPS", "URGENCIES",
    "UNKNOWN", "OPTION_FIELDS",
]

GROUPS = ("discuss", "consider", "unlikely", "other")
RULE_GROUPS = ("discuss", "consider", "unlikely")
URGENCIES = ("emergency", "today", "soon")
UNKNOWN = "unknown"

# Every catalog entry has every one of these, filled in (IPDAS: same depth for every option).
OPTION_FIELDS = {
    "name": str, "also_called": str, "what_it_is": str, "how_given": str, "how_soon": str,
    "visits": str, "benefits": list, "downsides": list, "daily_life": str, "questions": list,
    "priorities": dict, "sources": list, "reviewed": _dt.date,
}


class RuleBookError(Exception):
    """A problem in the rule book, naming the file and (where there is one) the rule id."""

    def __init__(self, file: str, rule_id: str | None, message: str):
        self.file, self.rule_id, self.message = file, rule_id, message
        where = f"{file}" + (f", rule '{rule_id}'" if rule_id else "")
        super().__init__(f"{where}: {message}")


# --------------------------------------------------------------------------------------------
# Questionnaire vocabulary
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    name: str
    kind: str                      # one | many | number
    label: str
    hint: str
    summary_label: str
    choices: tuple                 # ((value, label), ...) in display order
    only_if: Mapping[str, tuple]
    exclusive: frozenset
    min: int | None = None
    max: int | None = None

    def __post_init__(self):
        # Looked up on every answer of every request: computed once.
        object.__setattr__(self, "values", tuple(v for v, _ in self.choices))
        object.__setattr__(self, "value_set", frozenset(self.values))
        object.__setattr__(self, "_labels", dict(self.choices))

    def label_for(self, value: str) -> str:
        return self._labels.get(value, value)

    def applies(self, answers: Mapping[str, Any]) -> bool:
        """True when the question applies (follow-up questions only apply after some answers)."""
        for other, allowed in self.only_if.items():
            if answers.get(other) not in allowed:
                return False
        return True


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    intro: str
    fields: tuple


# --------------------------------------------------------------------------------------------
# Conditions
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Matcher:
    field: str
    any: frozenset | None = None
    none: frozenset | None = None
    all: frozenset | None = None
    known: bool | None = None
    min: int | None = None
    max: int | None = None


@dataclass(frozen=True)
class Condition:
    matchers: tuple  # of Matcher

    def __post_init__(self):
        # A quick first test (one "any of" on a choice question) lets plan() skip most
        # placement rules without a call; matches() still checks everything.
        gate = next(((m.field, m.any) for m in self.matchers if m.any is not None), None)
        object.__setattr__(self, "gate", gate)
        object.__setattr__(self, "fields", tuple(m.field for m in self.matchers))

    def matches(self, norm: Mapping[str, Any]) -> bool:
        for m in self.matchers:
            v = norm[m.field]
            if isinstance(v, frozenset):
                if m.any is not None and not (v & m.any):
                    return False
                if m.none is not None and (v & m.none):
                    return False
                if m.all is not None and not (m.all <= v):
                    return False
                if m.known is not None and m.known != bool(v - _UNKNOWN_SET):
                    return False
            else:  # number (int or None)
                if m.known is not None and m.known != (v is not None):
                    return False
                if m.min is not None and (v is None or v < m.min):
                    return False
                if m.max is not None and (v is None or v > m.max):
                    return False
        return True


_UNKNOWN_SET = frozenset({UNKNOWN})


# --------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """Any rule: placement (options+group), red flag (flag), caution (caution+options) or question."""
    id: str
    kind: str                       # placement | red_flag | caution | question
    file: str
    when: Condition
    text: str
    sources: tuple
    reviewed: _dt.date
    options: tuple = ()
    group: str | None = None
    flag: str | None = None
    caution: str | None = None


class Reason(NamedTuple):
    """Why a rule fired: the rule, its group (placement rules), the answers it looked at (as the
    contract's ``because`` strings and as ``facts``), its text and sources. Immutable (one Reason
    is shared by every option its rule places); ``sources`` is the rule's own tuple."""
    rule: str
    group: str | None
    because: list       # ["field=value,value"] as the contract shows them
    text: str
    sources: tuple
    facts: list = None  # [{"field": name, "values": [...]}]: the answers that triggered the rule

    def to_dict(self) -> dict:
        rule, group, because, text, sources, facts = self
        d = {"rule": rule, "because": because, "facts": facts, "text": text,
             "sources": list(sources)}
        if group:
            d["group"] = group
        return d


@dataclass(slots=True)
class OptionResult:
    id: str
    name: str
    group: str
    reasons: list
    cautions: list  # of dicts {id, title, text, rules, sources}
    outcomes: tuple = ()  # of dicts, the catalog's numbers (rules/outcomes.yaml)

    def to_dict(self) -> dict:
        return {
            "id": self.id, "name": self.name, "group": self.group,
            "reasons": [r.to_dict() for r in self.reasons],
            "cautions": [{"id": c["id"], "title": c["title"], "text": c["text"],
                          "rules": c["rules"], "sources": c["sources"]} for c in self.cautions],
            "outcomes": outcome_dicts(self.outcomes),
        }


def outcome_dicts(outcomes) -> list:
    """An option's numbers (its catalog ``outcomes``) as the plan's JSON gives them."""
    return [{**o, "range": o["range"] and list(o["range"]), "sources": list(o["sources"])}
            for o in outcomes]


@dataclass(slots=True)
class RedFlagResult:
    id: str
    urgency: str
    title: str
    action: str
    sources: list
    reasons: list

    def to_dict(self) -> dict:
        return {"id": self.id, "urgency": self.urgency, "title": self.title,
                "action": self.action, "sources": self.sources,
                "reasons": [r.to_dict() for r in self.reasons]}


@dataclass
class Plan:
    caveat: str
    rules_version: str
    reviewed: str
    answers: dict
    red_flags: list
    options: list
    questions: list     # of dicts {text, rule, because, sources}
    sources: dict

    def by_group(self, group: str) -> list:
        return [o for o in self.options if o.group == group]

    def option(self, option_id: str) -> OptionResult:
        for o in self.options:
            if o.id == option_id:
                return o
        raise KeyError(option_id)

    @property
    def has_emergency(self) -> bool:
        return any(f.urgency == "emergency" for f in self.red_flags)

    def to_dict(self) -> dict:
        return {
            "caveat": self.caveat,
            "rules_version": self.rules_version,
            "reviewed": self.reviewed,
            "answers": self.answers,
            "red_flags": [f.to_dict() for f in self.red_flags],
            "options": [o.to_dict() for o in self.options],
            "questions": [dict(q) for q in self.questions],
            "sources": self.sources,
        }


# --------------------------------------------------------------------------------------------
# The rule book
# --------------------------------------------------------------------------------------------
class RuleBook:
    """The whole validated rule book. Build it with :func:`load_rulebook`."""

    def __init__(self, *, meta, sections, fields, options, sources, placement, flags,
                 flag_rules, cautions, caution_rules, question_rules, files, glossary,
                 decision=None):
        self.meta = meta
        self.decision = decision          # rules/decision.yaml, checked (bonemets/decision.py)
        self.version = str(meta["version"])
        self.reviewed = meta["reviewed"]
        self.caveat = " ".join(str(meta["caveat"]).split())
        self.precedence = tuple(meta["precedence"])
        self.sections = sections
        self.fields = fields
        self.options = options            # id -> dict (catalog entry), catalog order
        self.sources = sources            # key -> dict
        self.placement = placement        # tuple of Rule
        self.flags = flags                # id -> dict
        self.flag_rules = flag_rules
        self.cautions = cautions          # id -> dict
        self.caution_rules = caution_rules
        self.question_rules = question_rules
        self.files = files                # the files read, relative names
        self.glossary = glossary          # ({"term", "means"}, ...) plain-word explanations
        self.rules_by_id = {r.id: r for r in self.all_rules()}
        self._rank = {g: i for i, g in enumerate(self.precedence)}
        self._option_order = {oid: i for i, oid in enumerate(options)}
        self._group_order = {g: i for i, g in enumerate(GROUPS)}
        self._urgency_order = {u: i for i, u in enumerate(URGENCIES)}
        self._source_order = {k: i for i, k in enumerate(sources)}
        self._reviewed_iso = self.reviewed.isoformat()
        # the rules as one compiled function, made once (see plan)
        self._compiled = Engine(self, groups=GROUPS, unknown=UNKNOWN,
                                types=(Reason, OptionResult, RedFlagResult, Plan))

    # -- introspection -------------------------------------------------------------------
    def all_rules(self):
        yield from self.placement
        yield from self.flag_rules
        yield from self.caution_rules
        yield from self.question_rules

    def rules_for_option(self, option_id: str) -> list:
        return [r for r in self.placement if option_id in r.options]

    def stale_rules(self, today: _dt.date) -> list:
        """Rules whose reviewed date is older than the review interval."""
        limit = _dt.timedelta(days=int(self.meta["review_interval_days"]))
        return [r for r in self.all_rules() if today - r.reviewed > limit]

    # -- answers -------------------------------------------------------------------------
    def validate_answers(self, data: Any) -> tuple[dict, dict]:
        """Check raw answers (e.g. parsed JSON). Returns (clean answers, problems by field): see
        :func:`bonemets.answers.validate`, the one validator of the form, steps and API."""
        return validate(self.fields, data)

    def _normalise(self, answers: Mapping[str, Any]) -> dict:
        norm = {}
        for name, f in self.fields.items():
            v = answers.get(name)
            if f.kind == "number":
                norm[name] = v if isinstance(v, int) and not isinstance(v, bool) else None
            elif f.kind == "one":
                if v is None or v == "":
                    norm[name] = _UNKNOWN_SET if UNKNOWN in f.value_set else frozenset()
                else:
                    norm[name] = frozenset((v,))
            else:
                norm[name] = frozenset(v if isinstance(v, (list, tuple)) else ([v] if v else []))
        return norm

    @staticmethod
    def _fact(field: str, answers: Mapping[str, Any]) -> dict:
        """The answer to ``field`` as a reason's fact: no values means "not answered"."""
        v = answers.get(field)
        if v is None or v == [] or v == "":
            return {"field": field, "values": []}
        return {"field": field, "values": list(v) if isinstance(v, list) else [v]}

    @staticmethod
    def _said(field: str, answers: Mapping[str, Any]) -> str:
        """``field=value`` as the person answered it (a reason's "because")."""
        v = answers.get(field)
        if v is None or v == [] or v == "":
            return f"{field}=not answered"
        if isinstance(v, list):
            return f"{field}=" + ",".join(v)
        return f"{field}={v}"

    # -- the plan ------------------------------------------------------------------------
    def plan(self, answers: Mapping[str, Any]) -> Plan:
        """Turn (validated) answers into a Plan. Pure: same answers, same plan.

        Runs the rule book's compiled form (:class:`bonemets.engine.Engine`, made once from the
        rule book): one function of bit tests on small integers made from the answers, with each
        rule's fixed output written into it. The conditions' meaning is
        :meth:`Condition.matches`; tests/test_engine_compiled.py checks, on thousands of random
        answer sets, that this gives exactly the plans of the plain interpreter
        (:func:`bonemets.scenarios.reference_plan`)."""
        return self._compiled.plan(answers)


# --------------------------------------------------------------------------------------------
# Loading and validation
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


def _as_date(value, rel, rule_id):
    _expect(isinstance(value, _dt.date), rel, rule_id,
            "needs a 'reviewed' date written as YYYY-MM-DD")
    return value


def _sources(value, known, rel, rule_id):
    _expect(isinstance(value, list) and value, rel, rule_id, "needs at least one source key in 'sources'")
    for key in value:
        _expect(key in known, rel, rule_id, f"cites unknown source '{key}' (not in sources.yaml)")
    return tuple(value)


def _load_fields(data, rel):
    _expect(isinstance(data, dict) and isinstance(data.get("fields"), dict)
            and isinstance(data.get("sections"), list), rel, None,
            "needs 'sections' (a list) and 'fields' (a mapping)")
    fields = {}
    for name, spec in data["fields"].items():
        _expect(isinstance(spec, dict), rel, name, "each field must be a mapping")
        kind = spec.get("kind")
        _expect(kind in ("one", "many", "number"), rel, name, "kind must be one, many or number")
        choices = spec.get("choices") or {}
        if kind == "number":
            _expect(isinstance(spec.get("min"), int) and isinstance(spec.get("max"), int),
                    rel, name, "a number field needs integer 'min' and 'max'")
        else:
            _expect(isinstance(choices, dict) and choices, rel, name, "needs 'choices'")
        fields[name] = Field(
            name=name, kind=kind, label=str(spec.get("label", "")), hint=str(spec.get("hint", "")),
            summary_label=str(spec.get("summary_label", spec.get("label", name))),
            choices=tuple((str(k), str(v)) for k, v in choices.items()),
            only_if={k: tuple(v) for k, v in (spec.get("only_if") or {}).items()},
            exclusive=frozenset(spec.get("exclusive") or ()),
            min=spec.get("min"), max=spec.get("max"),
        )
        _expect(fields[name].label, rel, name, "needs a 'label'")
    sections, placed = [], []
    for s in data["sections"]:
        for fname in s.get("fields", []):
            _expect(fname in fields, rel, s.get("id"), f"section names unknown field '{fname}'")
        placed += s.get("fields", [])
        sections.append(Section(s["id"], s["title"], s.get("intro", ""), tuple(s["fields"])))
    missing = set(fields) - set(placed)
    _expect(not missing, rel, None, f"fields not placed in any section: {sorted(missing)}")
    return tuple(sections), fields


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


def _check_keys(item, required, optional, rel, rule_id):
    missing = [k for k in required if k not in item]
    _expect(not missing, rel, rule_id, f"is missing {', '.join(repr(m) for m in missing)}")
    extra = set(item) - set(required) - set(optional)
    _expect(not extra, rel, rule_id, f"has unknown keys {sorted(extra)}")


def _text(item, key, rel, rule_id):
    v = item.get(key)
    _expect(isinstance(v, str) and v.strip(), rel, rule_id, f"needs a plain-language '{key}'")
    return " ".join(v.split())


SOURCE_KINDS = ("guideline", "trial", "product_label", "review", "patient_information",
                "secondary_copy", "other")
_SOURCE_KEYS = {"org", "title", "year", "url", "kind", "covers", "topics"}


def _load_sources(data) -> dict:
    """sources.yaml: each source says what kind of document it is and what it is evidence for
    (``covers``: option, red-flag and caution ids, checked against the rules once they are read;
    ``topics``: anything else, free words)."""
    rel = "sources.yaml"
    _expect(isinstance(data, dict) and data, rel, None, "must map keys to sources")
    out = {}
    for key, s in data.items():
        _expect(isinstance(s, dict), rel, key, "each source must be a mapping")
        extra = set(s) - _SOURCE_KEYS
        _expect(not extra, rel, key, f"has unknown keys {sorted(extra)}")
        for k in ("org", "title", "url"):
            _expect(isinstance(s.get(k), str) and s[k].strip(), rel, key, f"needs '{k}'")
        _expect(s.get("year") is None or isinstance(s.get("year"), int), rel, key,
                "year must be a whole number or null")
        _expect(s.get("kind") in SOURCE_KINDS, rel, key,
                f"needs a 'kind', one of: {', '.join(SOURCE_KINDS)}")
        for k in ("covers", "topics"):
            v = s.get(k, [])
            _expect(isinstance(v, list) and all(isinstance(i, str) and i.strip() for i in v),
                    rel, key, f"'{k}' must be a list of ids or words")
        out[key] = {"title": s["title"], "org": s["org"], "year": s.get("year"), "url": s["url"],
                    "kind": s["kind"], "secondary": s["kind"] == "secondary_copy",
                    "covers": list(s.get("covers", [])), "topics": list(s.get("topics", []))}
    return out


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


def load_rulebook(root: str, overlay=None) -> RuleBook:
    """Read and validate every file under ``root`` (the ``rules/`` folder). Raises RuleBookError.

    ``overlay(rel, data) -> data``, when given, is applied to each file as it is read: the
    rule book in another language is the same files with their texts replaced (bonemets/i18n.py),
    validated the same way."""
    def path(rel):
        return os.path.join(root, rel)

    files = []

    def read(rel):
        files.append(rel)
        data = _read_yaml(path(rel), rel)
        return overlay(rel, data) if overlay is not None else data

    meta = read("meta.yaml")
    _expect(isinstance(meta, dict), "meta.yaml", None, "must be a mapping")
    for key in ("version", "reviewed", "review_interval_days", "caveat", "precedence", "groups",
                "urgency", "emergency_notice"):
        _expect(key in meta, "meta.yaml", None, f"is missing '{key}'")
    _as_date(meta["reviewed"], "meta.yaml", None)
    _expect(sorted(meta["precedence"]) == sorted(RULE_GROUPS), "meta.yaml", None,
            f"precedence must list {list(RULE_GROUPS)}")

    sources = _load_sources(read("sources.yaml"))

    sections, fields = _load_fields(read("questionnaire.yaml"), "questionnaire.yaml")

    # Catalog
    rel = "options.yaml"
    catalog = read(rel)
    _expect(isinstance(catalog, list) and catalog, rel, None, "must be a list of options")
    options: dict = {}
    priority_values = set(fields["priorities"].values) if "priorities" in fields else set()
    for entry in catalog:
        _expect(isinstance(entry, dict) and isinstance(entry.get("id"), str), rel, None,
                "each option needs an 'id'")
        oid = entry["id"]
        _expect(oid not in options, rel, oid, "is listed twice")
        _check_keys(entry, ["id", *OPTION_FIELDS], [], rel, oid)
        for key, typ in OPTION_FIELDS.items():
            v = entry[key]
            _expect(isinstance(v, typ) and (v or typ is _dt.date), rel, oid,
                    f"'{key}' must be a non-empty {typ.__name__}")
            if typ is list and key != "sources":
                _expect(all(isinstance(i, str) and i.strip() for i in v), rel, oid,
                        f"'{key}' must be a list of sentences")
        for p in entry["priorities"]:
            _expect(p in priority_values, rel, oid, f"'priorities' names unknown value '{p}'")
        _sources(entry["sources"], sources, rel, oid)
        options[oid] = dict(entry)
    from .outcomes import load_outcomes  # here: outcomes.py imports this module
    for oid, outs in load_outcomes(read("outcomes.yaml"), options, sources).items():
        options[oid]["outcomes"] = outs

    ids: set = set()

    def new_id(item, rel):
        rid = item.get("id") if isinstance(item, dict) else None
        _expect(isinstance(rid, str) and rid.strip(), rel, None, "every rule needs an 'id'")
        _expect(rid not in ids, rel, rid, "duplicate rule id (ids must be unique in the rule book)")
        ids.add(rid)
        return rid

    def make_rule(item, kind, rel, text_key, **extra) -> Rule:
        rid = item["id"]
        return Rule(id=rid, kind=kind, file=rel, when=_compile_when(item["when"], fields, rel, rid),
                    text=_text(item, text_key, rel, rid),
                    sources=_sources(item["sources"], sources, rel, rid),
                    reviewed=_as_date(item["reviewed"], rel, rid), **extra)

    # Placement rules
    placement = []
    pdir = path("placement")
    names = sorted(n for n in os.listdir(pdir) if n.endswith((".yaml", ".yml"))) if os.path.isdir(pdir) else []
    _expect(names, "placement/", None, "holds no rule files")
    for name in names:
        rel = f"placement/{name}"
        items = read(rel)
        _expect(isinstance(items, list), rel, None, "must be a list of rules")
        for item in items:
            rid = new_id(item, rel)
            _check_keys(item, ["id", "group", "when", "because", "sources", "reviewed"],
                        ["option", "options"], rel, rid)
            _expect(("option" in item) != ("options" in item), rel, rid,
                    "needs exactly one of 'option' or 'options'")
            opts = [item["option"]] if "option" in item else item["options"]
            _expect(isinstance(opts, list) and opts, rel, rid, "'options' must be a list")
            for o in opts:
                _expect(o in options, rel, rid, f"names unknown option '{o}'")
            _expect(item["group"] in RULE_GROUPS, rel, rid,
                    f"group must be one of {', '.join(RULE_GROUPS)}")
            placement.append(make_rule(item, "placement", rel, "because",
                                       options=tuple(opts), group=item["group"]))

    # Red flags
    rel = "red_flags.yaml"
    data = read(rel)
    _expect(isinstance(data, dict) and isinstance(data.get("flags"), dict)
            and isinstance(data.get("rules"), list), rel, None, "needs 'flags' and 'rules'")
    flags = {}
    for fid, d in data["flags"].items():
        _check_keys(d, ["urgency", "title", "action", "sources", "reviewed"], [], rel, fid)
        _expect(d["urgency"] in URGENCIES, rel, fid, f"urgency must be one of {', '.join(URGENCIES)}")
        flags[fid] = {"urgency": d["urgency"], "title": _text(d, "title", rel, fid),
                      "action": _text(d, "action", rel, fid),
                      "sources": _sources(d["sources"], sources, rel, fid),
                      "reviewed": _as_date(d["reviewed"], rel, fid)}
    flag_rules = []
    for item in data["rules"]:
        rid = new_id(item, rel)
        _check_keys(item, ["id", "flag", "when", "because", "sources", "reviewed"], [], rel, rid)
        _expect(item["flag"] in flags, rel, rid, f"names unknown red flag '{item['flag']}'")
        flag_rules.append(make_rule(item, "red_flag", rel, "because", flag=item["flag"]))

    # Cautions
    rel = "cautions.yaml"
    data = read(rel)
    _expect(isinstance(data, dict) and isinstance(data.get("cautions"), dict)
            and isinstance(data.get("rules"), list), rel, None, "needs 'cautions' and 'rules'")
    cautions = {}
    for cid, d in data["cautions"].items():
        _expect(isinstance(d, dict), rel, cid, "each caution must be a mapping")
        cautions[cid] = {"title": _text(d, "title", rel, cid)}
    caution_rules = []
    for item in data["rules"]:
        rid = new_id(item, rel)
        _check_keys(item, ["id", "caution", "options", "when", "text", "sources", "reviewed"], [], rel, rid)
        _expect(item["caution"] in cautions, rel, rid, f"names unknown caution '{item['caution']}'")
        _expect(isinstance(item["options"], list) and item["options"], rel, rid, "'options' must be a list")
        for o in item["options"]:
            _expect(o in options, rel, rid, f"names unknown option '{o}'")
        caution_rules.append(make_rule(item, "caution", rel, "text", options=tuple(item["options"]),
                                       caution=item["caution"]))

    # Questions
    rel = "questions.yaml"
    data = read(rel)
    _expect(isinstance(data, dict) and isinstance(data.get("rules"), list), rel, None, "needs 'rules'")
    question_rules = []
    for item in data["rules"]:
        rid = new_id(item, rel)
        _check_keys(item, ["id", "when", "text", "sources", "reviewed"], [], rel, rid)
        question_rules.append(make_rule(item, "question", rel, "text"))

    # Glossary
    rel = "glossary.yaml"
    data = read(rel)
    _expect(isinstance(data, list) and data, rel, None, "must be a list of terms")
    glossary = []
    for item in data:
        _expect(isinstance(item, dict) and set(item) == {"term", "means"}, rel,
                str(item.get("term")) if isinstance(item, dict) else None,
                "each entry needs exactly 'term' and 'means'")
        glossary.append({"term": _text(item, "term", rel, None), "means": _text(item, "means", rel, item["term"])})

    _check_evidence(sources, options, flags, cautions, placement, flag_rules, caution_rules)
    from .decision import load_decision, load_readability  # here: decision.py imports this module
    decision = load_decision(read("decision.yaml"), options, sources)
    load_readability(meta)

    rb = RuleBook(decision=decision, glossary=tuple(glossary), meta=meta, sections=sections,
                  fields=fields, options=options, sources=sources,
                  placement=tuple(placement), flags=flags, flag_rules=tuple(flag_rules),
                  cautions=cautions, caution_rules=tuple(caution_rules),
                  question_rules=tuple(question_rules), files=tuple(files))
    # Safety invariants: validated here; proved by `flask rules check`, sampled by the tests.
    from .safety import FILE, load_safety
    rb.safety, rb.files = load_safety(root, rb), rb.files + (FILE,)
    return rb
