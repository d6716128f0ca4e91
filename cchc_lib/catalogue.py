"""Procedure code, name and field of dossiers from the procedure catalogue (conventions.md §1).

A real one-stop system's dossier list may carry only the procedure's name (no ``Mã TTHC``, no
``Lĩnh vực``). The code and the field then come from the catalogue, matching the name by its
normalised form (NFC, case, spaces: ``mapping.norm_key``) in the catalogue of the dossier's year:
the receipt year, for a registration never received its submission year, else the latest
catalogue. When the catalogue has no list for that year, the closest year's is used (the later
one on a tie), as for the service level. A name matching no procedure, or several procedures
with different codes, rejects the row with a reason quoting the name.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cchc_lib import schema
from cchc_lib.mapping import norm_key

MAX_QUOTE = 80


def _quote(text: str) -> str:
    return text if len(text) <= MAX_QUOTE else text[: MAX_QUOTE - 1] + "…"


def reference_years(dossiers: pd.DataFrame, catalogue_years: list[int]) -> np.ndarray:
    """The catalogue year of each dossier: received, else submitted, else the latest catalogue
    year; a year the catalogue lacks becomes the closest one it has (the later on a tie)."""
    latest = max(catalogue_years)
    year = dossiers["received_at"].dt.year
    if "submitted_at" in dossiers.columns:
        year = year.fillna(dossiers["submitted_at"].dt.year)
    wanted = year.fillna(latest).to_numpy(dtype=np.int64)
    have = np.array(sorted(catalogue_years), dtype=np.int64)
    distance = np.abs(wanted[:, None] - have[None, :])
    # Among equally close years the later one: reverse the candidates so argmin finds it first.
    best = distance[:, ::-1].argmin(axis=1)
    return have[::-1][best]


def _catalogue_index(procedures: pd.DataFrame) -> tuple[dict, dict]:
    """(year, name key) -> {code: (name, field)} and (year, code) -> (name, field)."""
    by_name: dict[tuple[int, str], dict[str, tuple[str, str]]] = {}
    by_code: dict[tuple[int, str], tuple[str, str]] = {}
    columns = ["procedure_code", "procedure_name", "field", "year"]
    for code, name, field, year in procedures[columns].itertuples(index=False):
        year = int(year)
        by_name.setdefault((year, norm_key(name)), {})[str(code)] = (str(name), str(field))
        by_code[(year, str(code))] = (str(name), str(field))
    return by_name, by_code


def resolve_procedures(dossiers: pd.DataFrame, procedures: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fill each dossier's missing procedure code, name and field from the catalogue:
    (dossiers kept, with every one filled; rejects in schema.REJECT_COLUMNS)."""
    code = dossiers["procedure_code"]
    name = dossiers["procedure_name"]
    field = dossiers["field"]
    need = (code.isna() | name.isna() | field.isna()).to_numpy(dtype=bool)
    if not need.any():
        return dossiers, _rejects(dossiers.iloc[0:0], [])
    rows = np.flatnonzero(need)
    years_available = sorted({int(y) for y in procedures["year"].dropna()}) if len(procedures) else []
    label = {s.name: s.label_vi for s in schema.DOSSIER_COLUMNS}
    new_code = code.to_numpy(dtype=object, na_value=None).copy()
    new_name = name.to_numpy(dtype=object, na_value=None).copy()
    new_field = field.to_numpy(dtype=object, na_value=None).copy()
    reasons: list[str | None] = [None] * len(rows)
    if not years_available:
        for j, i in enumerate(rows):
            what = f"'{_quote(new_name[i])}'" if new_name[i] else f"mã '{new_code[i]}'"
            reasons[j] = (f"Không có danh mục TTHC để tra {label['procedure_code']} và {label['field']} "
                          f"của {what}")
    else:
        by_name, by_code = _catalogue_index(procedures)
        years = reference_years(dossiers.iloc[rows], years_available)
        for j, (i, year) in enumerate(zip(rows, years, strict=True)):
            year = int(year)
            if new_code[i] is None:
                matches = by_name.get((year, norm_key(new_name[i])), {})
                if not matches:
                    reasons[j] = (f"{label['procedure_name']} '{_quote(new_name[i])}' không có trong "
                                  f"danh mục TTHC năm {year}")
                    continue
                if len(matches) > 1:
                    reasons[j] = (f"{label['procedure_name']} '{_quote(new_name[i])}' ứng với nhiều "
                                  f"{label['procedure_code']} trong danh mục năm {year} "
                                  f"({', '.join(sorted(matches))})")
                    continue
                (found_code, (_, found_field)), = matches.items()
                new_code[i] = found_code
                if new_field[i] is None:
                    new_field[i] = found_field
                continue
            entry = by_code.get((year, str(new_code[i])))
            if entry is None:
                missing = " và ".join(label[c] for c, v in (("procedure_name", new_name[i]),
                                                            ("field", new_field[i])) if v is None)
                reasons[j] = (f"{label['procedure_code']} '{_quote(str(new_code[i]))}' không có trong danh "
                              f"mục TTHC năm {year} nên không xác định được {missing}")
                continue
            if new_name[i] is None:
                new_name[i] = entry[0]
            if new_field[i] is None:
                new_field[i] = entry[1]
    bad = np.array([r is not None for r in reasons], dtype=bool)
    out = dossiers.copy(deep=False)
    out["procedure_code"] = pd.array(new_code, dtype="string")
    out["procedure_name"] = pd.array(new_name, dtype="string")
    out["field"] = pd.array(new_field, dtype="string")
    if not bad.any():
        return out, _rejects(dossiers.iloc[0:0], [])
    keep = np.ones(len(dossiers), dtype=bool)
    keep[rows[bad]] = False
    rejected = dossiers.iloc[rows[bad]]
    return out[keep], _rejects(rejected, [r for r in reasons if r is not None])


def _rejects(rejected: pd.DataFrame, reasons: list[str]) -> pd.DataFrame:
    n = len(rejected)
    return pd.DataFrame({
        "source_file": pd.array(rejected["source_file"].to_numpy(dtype=object), dtype="string"),
        "source_row": pd.array(rejected["source_row"].to_numpy(dtype=object), dtype="Int64"),
        "table": pd.array(["dossiers"] * n, dtype="string"),
        "dossier_id": pd.array(rejected["dossier_id"].to_numpy(dtype=object), dtype="string"),
        "column": pd.array(["procedure_code"] * n, dtype="string"),
        "reason": pd.array(reasons, dtype="string"),
    })
