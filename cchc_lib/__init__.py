"""cchc: administrative-reform (CCHC) indicators for a provincial Department of Planning and
Investment — ingest of one-stop-system exports, indicators against the plan's targets, the
official forms, and self-contained HTML reports."""

__version__ = "0.1.0"
