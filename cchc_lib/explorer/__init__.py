"""The analysts' explorer (notebooks/explore.ipynb).

``engine`` turns a choice of controls (a ``Selection``) into tables and figures without widgets;
``view`` draws its charts and tables and saves them; ``ui`` is the panel of ipywidgets controls
that drives both in JupyterLab.
"""
