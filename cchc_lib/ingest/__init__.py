"""`cchc ingest`: raw exports -> validated, personal-data-free processed tables.

``run`` drives a run (``run_ingest``) and writes the outputs; ``read_batches`` streams a large
file in row batches, ``chunks`` validates them into Arrow IPC chunks (``chunk_files``) and writes
the tables, ``dedup`` finds duplicates across the chunks, ``daily_total`` keeps the day-level
aggregate's running total, ``pool`` hands batches to worker processes, and ``cache`` remembers
what each raw file produced (the incremental ingest). Reading a file into canonical columns
(:mod:`cchc_lib.reading`, :mod:`cchc_lib.readers`) and validating rows
(:mod:`cchc_lib.validation`, :mod:`cchc_lib.schema`) are shared with the rest of the package.
"""
