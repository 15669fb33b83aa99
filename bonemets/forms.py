"""The questionnaire as a Flask-WTF form, built from ``rules/questionnaire.yaml``.

There is one form definition: the one-page form for nurses, the step-by-step pages for
patients, the hidden fields that carry answers to the summary and the PDF all use it. Every
question is optional ("I don't know" or blank is always allowed).
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, SelectMultipleField, StringField
from wtforms.validators import Optional, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from .rules import Field, RuleBook


class CheckboxesField(SelectMultipleField):
    """Tick-all-that-apply: a list of checkboxes (GOV.UK style) instead of a multi-select."""
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AllowedAnswers:
    """Every submitted value must be one of the question's answers (clear message if not)."""

    def __init__(self, spec: Field):
        self.spec = spec

    def __call__(self, form, field):
        values = field.data if isinstance(field.data, list) else [field.data]
        for v in values:
            if v not in self.spec.values:
                raise ValidationError(
                    f"“{str(v)[:40]}” is not one of the answers to “{self.spec.label}”. "
                    "Choose one of the answers listed, or “I don't know”.")


class WholeNumber:
    """A whole number in range, or blank. Keeps what was typed so the person can fix it."""

    def __init__(self, spec: Field):
        self.spec = spec

    def __call__(self, form, field):
        raw = (field.data or "").strip()
        if not raw:
            field.errors[:] = []
            raise StopValidation()
        # isdecimal, not isdigit: int() refuses "²"; and no int() of a 5,000-digit string
        if not raw.isdecimal() or len(raw) > 6 or not (self.spec.min <= int(raw) <= self.spec.max):
            raise ValidationError(
                f"Enter a whole number from {self.spec.min} to {self.spec.max} for "
                f"“{self.spec.label}”, or leave it blank.")


def build_form_class(rulebook: RuleBook) -> type:
    """Make the questionnaire form class from the rule book's questionnaire."""
    attrs = {}
    for name, spec in rulebook.fields.items():
        desc = spec.hint
        choices = [SelectChoice(value, label) for value, label in spec.choices]
        if spec.kind == "one":
            attrs[name] = RadioField(spec.label, choices=choices, description=desc,
                                     validate_choice=False,
                                     validators=[Optional(), AllowedAnswers(spec)])
        elif spec.kind == "many":
            attrs[name] = CheckboxesField(spec.label, choices=choices, description=desc,
                                          validate_choice=False,
                                          validators=[Optional(), AllowedAnswers(spec)])
        else:
            attrs[name] = StringField(spec.label, description=desc, validators=[WholeNumber(spec)],
                                      render_kw={"inputmode": "numeric", "pattern": "[0-9]*",
                                                 "autocomplete": "off", "size": 3})

    def answers(self) -> dict:
        """The answers given, in the contract's shape (only answered questions)."""
        raw = {}
        for name in rulebook.fields:
            value = self[name].data
            if value in (None, "", []):
                continue
            raw[name] = value
        clean, _ = rulebook.validate_answers(raw)
        return clean

    def error_list(self) -> list:
        """(field name, message) pairs, in form order, for the error summary."""
        return [(name, msg) for name in rulebook.fields for msg in self[name].errors]

    attrs["answers"] = answers
    attrs["error_list"] = error_list
    attrs["rulebook"] = rulebook
    return type("QuestionnaireForm", (FlaskForm,), attrs)
