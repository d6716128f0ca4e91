"""Every HTML fragment the reports, the index page and the e-mail show, rendered from a Jinja
template in ``templates/fragments/`` with autoescaping on: data text (procedure names, units,
notes typed by people) can never become markup. Python decides *what* a cell says (with
:mod:`cchc_lib.formatting`); the template decides the markup."""

from __future__ import annotations

import math
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from cchc_lib.config import FRAGMENTS_DIR


def _dash(value: object) -> object:
    """Missing data as an em dash (None, NA, NaN), anything else as it is."""
    if value is None:
        return "—"
    try:
        if value != value or (isinstance(value, float) and math.isnan(value)):  # NaN / NA
            return "—"
    except (TypeError, ValueError):  # pd.NA compares to nothing
        return "—"
    return value


_ENV = Environment(
    loader=FileSystemLoader(FRAGMENTS_DIR),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
)
_ENV.filters["dash"] = _dash


def render(name: str, **context: Any) -> Markup:
    """Render ``templates/fragments/<name>`` with ``context``; the result is markup that another
    fragment can embed without escaping it twice."""
    return Markup(_ENV.get_template(name).render(**context))
