"""The national service index (Quyết định 766/QĐ-TTg).

``scores`` reproduces the portal's scoring from counts and says which lever gains most;
``counts`` computes those counts from the processed data (the day-level aggregate and the
catalogue), ``daily`` the dossier counts per day it reads, and ``many`` the index frames of many
periods together (a batch of reports).
"""
