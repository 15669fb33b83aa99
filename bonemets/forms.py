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

from .answers import check_value
from .messages import form_problem
from .rules import Field, RuleBook


class CheckboxesField(SelectMultipleField):
    """Tick-all-that-apply: a list of checkboxes (GOV.UK style) instead of a multi-select."""
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class Checked:
    """The answer passes the one answer validator (bonemets/answers.py), as the JSON API's do;
    its problem is shown in words from the message catalog. A number keeps what was typed, so
    the person can fix it."""

    def __init__(self, spec: Field):
        self.spec = spec

    def __call__(self, form, field):
        data = field.data
        if isinstance(data, str) and not data.strip():
            field.errors[:] = []
            raise StopValidation()
        _, problem = check_value(self.spec, data)
        if problem is not None:
            raise ValidationError(form_problem(problem, self.spec))


def build_form_class(rulebook: RuleBook) -> type:
    """Make the questionnaire form class from the rule book's questionnaire."""
    attrs = {}
    for name, spec in rulebook.fields.items():
        desc = spec.hint
        choices = [SelectChoice(value, label) for value, label in spec.choices]
        if spec.kind == "one":
            attrs[name] = RadioField(spec.label, choices=choices, description=desc,
                                     validate_choice=False,
                                     validators=[Optional(), Checked(spec)])
        elif spec.kind == "many":
            attrs[name] = CheckboxesField(spec.label, choices=choices, description=desc,
                                          validate_choice=False,
                                          validators=[Optional(), Checked(spec)])
        else:
            attrs[name] = StringField(spec.label, description=desc, validators=[Checked(spec)],
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
