"""The HTML views: the pages (pages.py) and the step-by-step questionnaire (steps.py)."""
