"""Publishing: processed data -> report notebooks -> self-contained HTML, the index page, e-mail.

``report`` / ``plan_report`` / ``index766_section`` say what the report notebooks show,
``fragments`` renders every HTML piece from a Jinja template (autoescaped), ``runner`` executes
notebooks with papermill, ``export`` turns them into offline HTML, ``batch`` runs a year's reports,
``site`` writes the output folder's index page, ``mail`` and ``monthly`` send them.
"""
