"""The interface's message catalog: every word the code (not the rule book) shows a person.

Marked for translation with Flask-Babel (English is the source language): a Spanish catalog is
a ``translations/es/LC_MESSAGES/messages.po`` made with ``pybabel extract -F babel.cfg -k _l`` and
``pybabel init``; nothing else changes. Clinical wording never lives here: it is in ``rules/``.
"""
from __future__ import annotations

from babel.lists import format_list
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from .answers import Problem

# Answer problems (codes from bonemets/answers.py). The form names the question by its label (a
# person reads it beside the question); the JSON API lists the values a program may send.
FORM_PROBLEMS = {
    "not_a_number": _l("Enter a whole number from %(min)s to %(max)s for “%(label)s”, or leave it blank."),
    "out_of_range": _l("Enter a whole number from %(min)s to %(max)s for “%(label)s”, or leave it blank."),
    "not_one": _l("Choose one answer to “%(label)s”."),
    "not_a_choice": _l("“%(value)s” is not one of the answers to “%(label)s”. Choose one of the "
                       "answers listed, or “I don't know”."),
    "not_a_list": _l("Choose the answers to “%(label)s” from the list."),
}
API_PROBLEMS = {
    "not_an_object": _l('Send the answers as a JSON object, such as {"primary_cancer": "breast"}.'),
    "unknown_field": _l("This is not a question we ask. Check the spelling of the field name."),
    "not_a_number": _l("Enter a whole number from %(min)s to %(max)s."),
    "out_of_range": _l("Enter a whole number from %(min)s to %(max)s."),
    "not_one": _l("Choose one answer, not a list."),
    "not_a_choice": _l("'%(value)s' is not one of the answers. Choose one of: %(values)s."),
    "not_a_list": _l("Send a list of answers."),
    "not_json_type": _l("Send the answers as JSON with the header Content-Type: application/json."),
    "not_json": _l("The body is not valid JSON."),
}


# Control characters (a NUL, an escape) that a page must not echo back as they came: an HTML
# page may not hold them (browsers show U+FFFD for a NUL); tab and newline are kept.
_CONTROLS = {c: "\ufffd" for c in [*range(0x00, 0x09), 0x0b, 0x0c, *range(0x0e, 0x20), 0x7f]}


def echoed(text: str) -> str:
    """What a person sent, as a page may show it back: control characters as U+FFFD."""
    return text.translate(_CONTROLS)


def form_problem(problem: Problem, field) -> str:
    params = {k: echoed(v) if isinstance(v, str) else v for k, v in problem.params.items()}
    return str(FORM_PROBLEMS[problem.code]) % {**params, "label": field.label}


def api_problem(problem: Problem, field=None) -> str:
    values = ", ".join(field.values) if field is not None and field.kind != "number" else ""
    return str(API_PROBLEMS[problem.code]) % {**problem.params, "values": values}


def api_problems(problems: dict, fields) -> dict:
    """{field: Problem} -> {field: message} for the JSON API and the command line."""
    return {name: api_problem(p, fields.get(name)) for name, p in problems.items()}


# Problems with a FHIR QuestionnaireResponse (bonemets/fhir.py): the import page shows them to a
# person; the API sends them in an OperationOutcome.
FHIR_PROBLEMS = {
    "not_an_object": _l("Send one FHIR QuestionnaireResponse as a JSON object."),
    "wrong_type": _l("This is a %(type)s resource, not a QuestionnaireResponse."),
    "no_type": _l("This has no resourceType: send a FHIR QuestionnaireResponse."),
    "other_questionnaire": _l("This response is for another questionnaire (%(named)s). We can only "
                              "read answers to %(url)s."),
    "status": _l("The status must be one of: %(values)s."),
    "too_deep": _l("The items are nested deeper than the questionnaire's."),
    "item_not_list": _l("'item' must be a list."),
    "no_link_id": _l("Every item needs a linkId."),
    "unknown_link": _l("'%(link)s' is not a question of this questionnaire."),
    "twice": _l("'%(link)s' is answered twice."),
    "no_follow_up": _l("'%(link)s' has no follow-up items."),
    "not_a_question": _l("'%(link)s' is not a question and takes no answer."),
    "answer_not_list": _l("'answer' must be a list of answers."),
    "one_integer": _l("'%(link)s' takes one whole number (valueInteger)."),
    "coded": _l("'%(link)s' takes coded answers (valueCoding)."),
    "code_system": _l("'%(link)s': the code system must be %(system)s."),
    "one_answer": _l("'%(link)s' takes one answer, not several."),
    "not_json": _l("This is not valid JSON. Paste the whole QuestionnaireResponse file."),
    "none_named": _l("none named"),
    # the FHIR and CDS Hooks routes (bonemets/fhir_web.py)
    "no_codesystem": _l("There is no CodeSystem '%(id)s'."),
    "no_valueset": _l("There is no ValueSet '%(id)s'."),
    "no_service": _l("There is no CDS service '%(id)s'."),
    "hook_not_json": _l("Send the hook request as JSON (Content-Type: application/json)."),
    "no_prefetch": _l("Send the prefetch data the discovery document asks for: this service does "
                      "not query the FHIR server."),
    # the import page (a person pastes or chooses a file)
    "file_not_text": _l("The file is not a text file. Choose the .json file you downloaded."),
    "nothing_pasted": _l("Paste a QuestionnaireResponse, or choose its file."),
}

# Requests the site refuses before any page (bonemets/security.py).
REFUSED = {
    "host": _l("This address is not one this site answers to. Please check the address and try "
               "again."),
    "type": _l("The questions' answers must be sent by the questions form. To send answers as "
               "JSON, use /api/plan."),
    "file": _l("A file was sent where the questions expect an answer. Files cannot be used here. "
               "Your other answers are kept: go back to them below."),
}

# Icon arrays (bonemets/iconarray.py): layout words around the outcome texts of the rule book.
IA = {
    "count": _l("%(n)s of %(per)s"),
    "people": _l("%(count)s people %(event)s"),
    "not": _l("%(count)s %(no_event)s"),
    "with_option": _l("With this option"),
    "with_other": _l("With %(comparator)s"),
    "time": _l("Time: %(when)s."),
    # Translators: one picture in words: "With this option: 35 of 100 people ...; 65 of 100 ...."
    "picture": _l("%(heading)s: %(has)s; %(has_not)s."),
    # Translators: an outcome no number is known for: its label, as a sentence.
    "no_number_label": _l("%(label)s."),
    "no_number": _l("No number is known, so there is no range."),
    "no_range": _l("Our sources give no range for this number."),
    "range": _l("The real number could be anywhere from %(low)s to %(high)s in %(per)s."),
    "key": _l("How sure are we?"),
    "key_intro": _l("Each number comes with one of these four steps:"),
}
# The four GRADE certainty steps, most sure first (bonemets/iconarray.py names them).
CERTAINTY_STEPS = (
    (_l("Very sure"), _l("More research is very unlikely to change this number.")),
    (_l("Fairly sure"), _l("More research could change this number.")),
    (_l("Not very sure"), _l("More research is likely to change this number.")),
    (_l("Very unsure"), _l("The real number could be very different.")),
)

# Words the presenter puts around the rule book's own wording.
NOT_ANSWERED = _l("Not answered")
NOT_ANSWERED_SAID = _l("not answered")
SAID_JOIN = "; "

# The option grid: which catalog fields it compares, and the row headings.
GRID_ROWS = (
    ("what_it_is", _l("What is it?")),
    ("how_given", _l("How is it given?")),
    ("how_soon", _l("How soon might it help?")),
    ("visits", _l("Visits and hospital stays")),
    ("benefits", _l("Possible benefits")),
    ("downsides", _l("Possible downsides")),
    ("daily_life", _l("What daily life is like")),
)

# Plain-language error pages (the same words for pages and the API).
HTTP_ERRORS = {
    400: _l("We could not read what was sent. Please go back and try again."),
    404: _l("We could not find that page."),
    405: _l("This page cannot be opened that way. Please start from the questions."),
    413: _l("What was sent is too large. The questions need only a few answers: please go back "
            "and send them again."),
    500: _l("Something went wrong on our side."),
    503: _l("Many printable summaries are being made right now. Nothing you entered has been "
            "stored. Please wait a few seconds, then go back and ask for the PDF again."),
}
NOTHING_STORED = _l("Nothing you entered has been stored on our server.")
PLEASE_NOTE = _l("Please note:")

# The answers nginx and gunicorn give themselves, to requests that never reach the app
# (bonemets/proxy_words.py): the codes the app answers too take its words (HTTP_ERRORS); these
# are the proxy's own.
PROXY_ERRORS = {
    414: _l("That web address is too long. Please start from the questions."),
    429: _l("Too many PDF downloads at once. Please wait a few seconds and try again."),
    503: _l("The guide is busy or restarting. Please try again in a few seconds."),
}
NO_SUCH_STEP = _l("There is no such step.")
ANSWERS_GONE = _l("Your answers are not kept in this browser any more. They are cleared when you "
                  "press “Clear my answers”, and after %(hours)s hours. Please start again.")


def http_error(code: int, default: str = "") -> str:
    text = HTTP_ERRORS.get(code)
    return str(text) if text is not None else default


# Conditions in plain words (the rule book page).
COND = {
    "is": _l("%(q)s is %(names)s"),
    "includes": _l("%(q)s includes %(names)s"),
    "includes_all": _l("%(q)s includes all of %(names)s"),
    "is_not": _l("%(q)s is not %(names)s"),
    "not_includes": _l("%(q)s does not include %(names)s"),
    "known": _l("%(q)s is known"),
    "not_known": _l("%(q)s is not known or not answered"),
    "between": _l("%(q)s is from %(min)s to %(max)s"),
    "at_least": _l("%(q)s is %(min)s or more"),
    "at_most": _l("%(q)s is %(max)s or less"),
    "and": _l("and"),
    "or": _l("or"),
    "always": _l("Always (for everyone)"),
    "if": _l("If %(conditions)s"),
    "join": _l(", and "),
}


# The safety statements of /rules (rules/safety.yaml), in words made from the rule book's own
# names, group headings, warning and check titles (in the page's language). ``num``: how many
# options the statement names.
def _safety_words(kind, num, **words) -> str:
    if kind == "never":
        return ngettext("%(options)s is never under %(groups)s.",
                        "%(options)s are each never under %(groups)s.", num, **words)
    if kind == "at_least":
        return ngettext("%(options)s is always under %(groups)s.",
                        "%(options)s are each always under %(groups)s.", num, **words)
    if kind == "caution":
        return ngettext("%(options)s always carries the check %(title)s.",
                        "%(options)s always carry the check %(title)s.", num, **words)
    if kind == "flag":
        return _("The warning %(title)s is always shown.", **words)
    return _("Under %(group)s, %(options)s is never listed first: %(after)s comes before it.",
             **words)


def _quoted(text) -> str:
    return _("“%(text)s”", text=text)


def _names(items, style="standard") -> str:
    loc = get_locale()
    return format_list(list(items), style=style, locale=loc if loc is not None else "en")


def safety_statement(inv, rb) -> str:
    """What a safety invariant (bonemets/safety.py) requires, in plain words."""
    options = [rb.options[o]["name"] for o in inv.options]
    n = len(options)
    heading = lambda g: _quoted(rb.meta["groups"][g]["heading"])  # noqa: E731
    if inv.kind in ("never", "at_least"):
        return _safety_words(inv.kind, n, options=_names(options),
                             groups=_names(map(heading, inv.groups), "or"))
    if inv.kind == "flag":
        return " ".join(_safety_words("flag", 1, title=_quoted(rb.flags[f]["title"]))
                        for f in inv.flags)
    if inv.kind == "caution":
        return _safety_words("caution", n, options=_names(options),
                             title=_quoted(rb.cautions[inv.caution]["title"]))
    return _safety_words(inv.kind, n, group=heading(inv.group), options=_names(options, "or"),
                         after=_names((rb.options[o]["name"] for o in inv.after), "or"))


# CDS Hooks cards (bonemets/cds.py) and the FHIR resources' own titles (bonemets/fhir.py): the
# words around the rule book's texts, in the language of the card or resource.
CDS = {
    "title": _l("Bone metastases: options to discuss"),
    "description": _l("Reads the primary cancer, kidney function, calcium, ECOG performance status "
                      "and pain score from the record, and shows the treatment options often "
                      "discussed for them, any red flags, and a link to the patient's discussion "
                      "guide. Not medical advice."),
    "usage": _l("Send the prefetch: the service never queries the FHIR server."),
    "why": _l("Why:"),
    "from_record": _l("From the record:"),
    "nothing": _l("nothing this guide uses."),
    "not_in_record": _l("Not in the record (or too old):"),
    "none_yet": _l("none yet: the guide needs more answers."),
    "sources": _l("Sources:"),
    "rule_book": _l("bonemets rule book %(version)s"),
    "rule_book_reviewed": _l("bonemets rule book %(version)s (reviewed %(date)s)"),
    "open": _l("Open the discussion guide, pre-filled from the record"),
}


# Problems with a CDS Hooks service call (bonemets/cds.py, sent in an OperationOutcome).
CDS_PROBLEMS = {
    "not_an_object": _l("The hook request must be a JSON object."),
    "hook": _l("This service answers the '%(hook)s' hook only."),
    "hook_instance": _l("Send a hookInstance (a UUID)."),
    "patient_id": _l("Send context.patientId."),
    "prefetch": _l("prefetch must be an object of FHIR resources."),
}


def cds_questions(n: int) -> str:
    return ngettext("%(num)s question for the care team is open until the patient answers the "
                    "guide.", "%(num)s questions for the care team are open until the patient "
                    "answers the guide.", n)


def cds_summary(n: int) -> str:
    return ngettext("Bone metastases: %(num)s option often discussed for what the record shows. "
                    "Open the patient's discussion guide.",
                    "Bone metastases: %(num)s options often discussed for what the record shows. "
                    "Open the patient's discussion guide.", n)


FHIR_TEXTS = {
    "questionnaire_title": _l("Bone metastases discussion guide: questions"),
    "launch_patient": _l("The person the answers are about (to pre-fill from the record)"),
    "from_record": _l("From the record: %(codes)s"),
    "codesystem_title": _l("Bone metastases discussion guide: answer codes"),
    "codesystem_description": _l("The answer values of the bonemets questionnaire. 'unknown' "
                                 "means “I don't know”. Each question's ValueSet gives its own "
                                 "wording."),
    "answer_to": _l("Answer to: %(fields)s."),
    "all_answers": _l("Every bonemets answer code"),
}


__all__ = ["_", "_l", "safety_statement"]
