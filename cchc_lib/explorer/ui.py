"""The explorer's panel in JupyterLab: ipywidgets controls, a plotly FigureWidget that redraws in
place, and the tables under it. ``explore(processed_dir)`` in a notebook cell is all it takes.

Every control calls :meth:`Explorer.refresh`, which asks :mod:`cchc_lib.explorer.engine` (the engine,
memoised) for the frames and lays them out with :mod:`cchc_lib.explorer.view`. Driven from
Python, ``ui.controls["department"].value = "..."`` runs exactly what a click runs. The data
window and counting conventions are controls too (``window``, ``timeliness``, ``withdrawn``),
starting at the conventions the data was loaded with (the packaged conventions file unless
``explore(conventions_file=...)`` names another).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import ipywidgets as w
import pandas as pd
import plotly.graph_objects as go

from cchc_lib.conventions import ConventionsError, load_conventions
from cchc_lib.explorer import engine as ex
from cchc_lib.explorer import view
from cchc_lib.formatting import fmt_date
from cchc_lib.indicators import BY_CHOICES, BY_LABELS, INDICATORS
from cchc_lib.periods import Period, periods_between
from cchc_lib.processed import MissingDataError, ProcessedData, load_processed
from cchc_lib.publish.fragments import render

ALL_DEPARTMENTS = "Tất cả các phòng"
NO_PROCEDURE = "— chọn thủ tục —"
WIDE = w.Layout(width="auto")
LABEL = {"description_width": "initial"}  # labels in full, never cut to "Kỳ phân tí..."


class Explorer:
    """The panel: ``widget`` to display, ``controls`` by name, ``figure`` (the FigureWidget),
    and after every refresh ``frames`` (the tables shown) and ``last_refresh_s``."""

    def __init__(self, data: ProcessedData, export_dir: str | Path = "reports/explore",
                 selection: ex.Selection | None = None) -> None:
        self.engine = ex.Engine(data)
        self.data = self.engine.data
        self.export_dir = Path(export_dir)
        self.names = self.engine.names
        # The months offered span the data under either window (under nd09 a dossier received
        # on 20/12 is in January's window).
        first, _ = ex.data_months(data, "calendar")
        _, last = ex.data_months(data, "nd09")
        self.months = periods_between(first, last, "month")
        sel = selection or ex.default_selection(data)
        self.base_conventions = sel.conventions  # the file's conventions the controls start at
        self._quiet = False
        self.frames: dict[str, pd.DataFrame] = {}
        self.chart: go.Figure = go.Figure()
        self.last_refresh_s = 0.0
        self.controls = self._build_controls(sel)
        self.figure = go.FigureWidget(layout={"template": view.charts.TEMPLATE, "height": 420})
        self.table = w.HTML()
        self.drill = w.HTML()
        self.compare_table = w.HTML()
        self.status = w.HTML()
        self.span = w.HTML()  # the dates the range covers under the chosen window
        self.widget = self._layout()
        for control in self.controls.values():
            if isinstance(control, w.ValueWidget):
                control.observe(self._changed, names="value")
        self.refresh()

    # -- controls -------------------------------------------------------------------------------

    def _build_controls(self, sel: ex.Selection) -> dict[str, w.Widget]:
        group_of = {i: g for g, ids in ex.INDICATOR_GROUPS for i in ids}
        group = group_of.get(sel.indicator, ex.INDICATOR_GROUPS[0][0])
        month_options = [(m.label_vi, m.code) for m in self.months]
        codes = [m.code for m in self.months]
        start = sel.start.code if sel.start.code in codes else codes[0]
        end = sel.end.code if sel.end.code in codes else codes[-1]
        departments = sorted(self.data.dossiers["department"].dropna().astype(str).unique())
        return {
            "group": w.Dropdown(options=[g for g, _ in ex.INDICATOR_GROUPS], value=group,
                                description="Nhóm chỉ tiêu", layout=WIDE, style=LABEL),
            "indicators": w.SelectMultiple(options=self._indicator_options(group), value=sel.indicators,
                                           rows=4, description="Chỉ tiêu", layout=w.Layout(width="520px"),
                                           style=LABEL),
            "by": w.Dropdown(options=[(BY_LABELS[b], b) for b in BY_CHOICES], value=sel.by,
                             description="Chia theo", style=LABEL),
            "granularity": w.ToggleButtons(options=[(v, k) for k, v in ex.GRANULARITY_LABELS.items()],
                                           value=sel.granularity, description="Chu kỳ", style=LABEL),
            "start": w.Dropdown(options=month_options, value=start, description="Từ", style=LABEL),
            "end": w.Dropdown(options=month_options, value=end, description="Đến", style=LABEL),
            "period": w.Dropdown(options=[], description="Kỳ phân tích", style=LABEL),
            "department": w.Dropdown(options=[(ALL_DEPARTMENTS, "")] + [(d, d) for d in departments],
                                     value=sel.department or "", description="Phòng",
                                     layout=w.Layout(width="460px"), style=LABEL),
            "procedure": w.Dropdown(options=[(NO_PROCEDURE, "")], value="", description="Thủ tục",
                                    layout=w.Layout(width="520px"), style=LABEL),
            "compare": w.Dropdown(options=[(v, k) for k, v in ex.COMPARE_LABELS.items()], value=sel.compare,
                                  description="So sánh với", style=LABEL),
            "window": w.Dropdown(options=[(v, k) for k, v in ex.WINDOW_LABELS.items()],
                                 value=sel.conventions.window, description="Kỳ số liệu", style=LABEL,
                                 layout=w.Layout(width="360px")),
            "timeliness": w.Dropdown(options=[(v, k) for k, v in ex.TIMELINESS_CONVENTION_LABELS.items()],
                                     value=sel.conventions.timeliness, description="Đúng hạn xét theo",
                                     style=LABEL),
            "withdrawn": w.Dropdown(options=[(v, k) for k, v in ex.WITHDRAWN_LABELS.items()],
                                    value=sel.conventions.withdrawn, description="Hồ sơ công dân rút",
                                    style=LABEL),
            "export_excel": w.Button(description="Xuất bảng Excel", icon="table"),
            "export_png": w.Button(description="Xuất biểu đồ PNG", icon="image"),
            "export_html": w.Button(description="Xuất biểu đồ HTML", icon="file"),
        }

    @staticmethod
    def _indicator_options(group: str) -> list[tuple[str, str]]:
        ids = dict(ex.INDICATOR_GROUPS)[group]
        return [(INDICATORS[i].label_vi, i) for i in ids]

    def _layout(self) -> w.Widget:
        c = self.controls
        for name, fmt in (("export_excel", "xlsx"), ("export_png", "png"), ("export_html", "html")):
            c[name].on_click(lambda _button, fmt=fmt: self.export(fmt))
        return w.VBox([
            w.HTML(render("explorer_heading.html.j2", styles=True, level=3, text="Khám phá chỉ số CCHC")),
            w.HBox([c["group"], c["indicators"]]),
            w.HBox([c["by"], c["granularity"]]),
            w.HBox([w.Label("Thời gian:"), c["start"], c["end"], self.span]),
            w.HBox([c["window"], c["timeliness"], c["withdrawn"]]),
            w.HBox([c["period"], c["compare"]]),
            w.HBox([c["department"], c["procedure"]]),
            self.figure,
            self.table,
            w.HTML(render("explorer_heading.html.j2", styles=False, level=4, text="So sánh hai kỳ")),
            self.compare_table,
            w.HTML(render("explorer_heading.html.j2", styles=False, level=4,
                          text="Đi sâu: thủ tục của phòng, hồ sơ của thủ tục")),
            self.drill,
            w.HBox([c["export_excel"], c["export_png"], c["export_html"]]),
            self.status,
        ])

    def selection(self) -> ex.Selection:
        """What the controls say now."""
        c = self.controls
        start, end = sorted((c["start"].value, c["end"].value))  # codes sort as months do
        indicators = tuple(c["indicators"].value) or (c["indicators"].options[0][1],)
        return ex.Selection(
            indicators=indicators, by=c["by"].value, granularity=c["granularity"].value,
            start=Period.parse(start), end=Period.parse(end),
            period=Period.parse(c["period"].value) if c["period"].value else None,
            department=c["department"].value or None, procedure=c["procedure"].value or None,
            compare=c["compare"].value,
            conventions=ex.choose_conventions(self.base_conventions, window=c["window"].value,
                                              timeliness=c["timeliness"].value,
                                              withdrawn=c["withdrawn"].value),
        )

    def _changed(self, change: dict) -> None:
        if self._quiet:
            return
        owner = change["owner"]
        c = self.controls
        self._quiet = True
        try:
            if owner is c["group"]:
                c["indicators"].options = self._indicator_options(c["group"].value)
                c["indicators"].value = (c["indicators"].options[0][1],)
            if owner is c["department"]:
                c["procedure"].options, c["procedure"].value = [(NO_PROCEDURE, "")], ""
        finally:
            self._quiet = False
        try:
            self.refresh()
        except Exception as exc:  # noqa: BLE001 - a click must say what went wrong, not go silent
            problem = f"{type(exc).__name__}: {exc}"
            self.status.value = render("message.html.j2", kind="error", code="", bold=False,
                                       text=f"Không cập nhật được: {problem}")
            raise

    def _sync_periods(self, sel: ex.Selection) -> ex.Selection:
        """Keep the 'period looked at' list in step with the range and granularity."""
        periods = sel.periods()
        options = [(sel.label(p), p.code) for p in periods]
        focus = sel.focus()
        control = self.controls["period"]
        self._quiet = True
        try:
            if list(control.options) != options:
                control.options = options
            control.value = focus.code
        finally:
            self._quiet = False
        return replace(sel, period=focus)

    def _sync_procedures(self, procedures: pd.DataFrame, sel: ex.Selection) -> ex.Selection:
        options = [(NO_PROCEDURE, "")] + [
            (f"{code} — {name}", str(code))
            for code, name in zip(procedures["group"], procedures["procedure_name"], strict=True)]
        control = self.controls["procedure"]
        value = sel.procedure if sel.procedure in {o[1] for o in options} else ""
        self._quiet = True
        try:
            if list(control.options) != options:
                control.options = options
            control.value = value
        finally:
            self._quiet = False
        return replace(sel, procedure=value or None)

    # -- refresh --------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Recompute what the controls ask and redraw the chart and tables in place."""
        started = time.perf_counter()
        sel = self._sync_periods(self.selection())
        trend = ex.trend(self.engine, sel)
        procedures = ex.department_procedures(self.engine, sel)
        sel = self._sync_procedures(procedures, sel)
        if sel.by == "overall":
            self.chart = view.trend_figure(trend, sel)
            main = view.prepare_table(trend, "trend", department=sel.department, window=sel.window)
            columns = view.table_columns("trend", sel.by)
            caption = f"{ex.describe(sel)}: tử số, mẫu số, kết quả, chỉ tiêu và đánh giá"
        else:
            rows = ex.breakdown(self.engine, sel)
            self.chart = view.breakdown_figure(rows, sel, self.names)
            main = view.prepare_table(rows, "breakdown", self.names, sel.department, sel.window)
            columns = view.table_columns("breakdown", sel.by)
            caption = (f"Theo {BY_LABELS[sel.by].lower()} — {sel.label(sel.focus())}, xếp từ nhóm kéo "
                       "kết quả chung xuống nhiều nhất")
        view.update_widget(self.figure, self.chart)
        self.table.value = view.table_html(main, columns, caption)
        compared = view.prepare_table(ex.comparison(self.engine, sel), "comparison", self.names,
                                      sel.department, sel.window)
        self.compare_table.value = view.table_html(
            compared, view.table_columns("comparison", sel.by),
            f"{sel.label(sel.focus())} so với {sel.label(sel.other())}")
        first, last = sel.span()
        self.span.value = render("explorer_note.html.j2",
                                 text=f"số liệu từ {fmt_date(first)} đến {fmt_date(last)}")
        dossiers = view.prepare_table(
            self.engine.dossier_timeliness(sel), "dossiers")
        self.frames = {"main": main, "comparison": compared, "procedures": procedures, "dossiers": dossiers}
        self._columns = {"main": columns, "comparison": view.table_columns("comparison", sel.by)}
        self.drill.value = self._drill_html(sel, procedures, dossiers)
        self.last_refresh_s = time.perf_counter() - started

    def _drill_html(self, sel: ex.Selection, procedures: pd.DataFrame, dossiers: pd.DataFrame) -> str:
        if sel.department is None:
            return render("explorer_hint.html.j2", before="Chọn một phòng ở ô ", control="Phòng",
                          after=" để xem các thủ tục của phòng, xếp từ kém nhất.")
        label = INDICATORS[sel.indicator].label_vi
        caption = f"{sel.department} — {label} theo thủ tục, {sel.label(sel.focus())}, kém nhất trước"
        parts = [view.table_html(procedures, view.table_columns("procedures", "procedure"), caption)]
        if sel.procedure is None:
            parts.append(render("explorer_hint.html.j2", before="Chọn một thủ tục ở ô ", control="Thủ tục",
                                after=" để xem tiến độ từng hồ sơ."))
        else:
            parts.append(view.table_html(
                dossiers, view.table_columns("dossiers", ""),
                f"Hồ sơ của thủ tục {sel.procedure} {self.names.get(sel.procedure, '')} trong "
                f"{sel.label(sel.focus())}: đã giải quyết trong kỳ hoặc còn tồn cuối kỳ"))
        return "".join(parts)

    # -- exports --------------------------------------------------------------------------------

    def export(self, fmt: str) -> Path | None:
        """Save the current table (xlsx) or chart (png, html) under ``export_dir``; the path (or
        the reason it failed) is shown under the buttons."""
        sel = self.selection()
        try:
            if fmt == "xlsx":
                sheets = [("Bảng", self.frames["main"], self._columns["main"]),
                          ("So sánh hai kỳ", self.frames["comparison"], self._columns["comparison"])]
                if sel.department is not None:
                    sheets.append(("Thủ tục của phòng", view.prepare_table(self.frames["procedures"],
                                                                            "procedures"),
                                   view.table_columns("procedures", "procedure")))
                if sel.procedure is not None:
                    sheets.append(("Hồ sơ", self.frames["dossiers"], view.table_columns("dossiers", "")))
                path = view.write_excel(self.export_dir / f"{view.export_stem(sel, 'bang')}.xlsx", sheets,
                                        view.selection_about(sel))
            else:
                path = view.write_chart(self.chart, self.export_dir / view.export_stem(sel, "bieu-do"), fmt)
        except (OSError, RuntimeError) as exc:
            self.status.value = render("message.html.j2", kind="error", text=f"Chưa xuất được: {exc}",
                                       code="", bold=False)
            return None
        self.status.value = render("message.html.j2", kind="info", text="Đã lưu: ", code=str(path),
                                   bold=False)
        return path


def explore(processed_dir: str | Path = "../data/processed",
            export_dir: str | Path = "../reports/explore",
            conventions_file: str | Path | None = None) -> Explorer | None:
    """Load the processed data, build the panel and display it (the notebook's one call); the
    window and conventions controls start at ``conventions_file``'s values (the packaged
    conventions.yaml when None). Without processed data or with a bad conventions file, say in
    Vietnamese what is wrong instead of showing a traceback."""
    from IPython.display import HTML, display

    try:
        data = load_processed(Path(processed_dir), load_conventions(conventions_file))
    except (MissingDataError, ConventionsError) as exc:
        display(HTML(render("message.html.j2", kind="error", text=str(exc), code="", bold=True)))
        return None
    if data.dossiers.empty:
        display(HTML(render("message.html.j2", kind="error", bold=True, code="", text=(
            f"Chưa có hồ sơ nào trong {processed_dir}: hãy đặt tệp xuất vào data/raw/dossiers "
            "và chạy `cchc ingest`."))))
        return None
    ui = Explorer(data, export_dir)
    display(ui.widget)
    return ui
