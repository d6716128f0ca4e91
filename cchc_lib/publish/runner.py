"""Running notebooks: papermill in warm kernels, one kernel per batch worker. Nothing here knows
what a report is about: a job (:class:`ReportJob`, built by :mod:`cchc_lib.publish.jobs` or
:mod:`cchc_lib.publish.plan_report`) names a notebook, its parameters, its output paths and its
title, and comes back as a :class:`ReportResult` named by the job's ``key``. :func:`run_job`
executes it with papermill in a :class:`KernelSession` — a kernel started once and kept for
every report of a worker, its state reset before each report (a fresh IPython namespace and
execution count, the notebook's folder as working directory) so that no report depends on the
one before — keeps the executed notebook next to the HTML as the record of the run, and exports
the HTML with :mod:`cchc_lib.publish.export`. The kernels run with ``CCHC_PLOTLYJS=export``: charts leave
plotly.js to the export, so the executed notebook carries none.

What a warm kernel saves per report: the kernel's start (0.5 s) and the notebook's imports
(pandas, plotly, cchc_lib: about 1 s); the batch workers are forked from a process that has
already imported papermill and nbconvert.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cchc_lib.atomic import make_readable, temp_path, write_text_atomic
from cchc_lib.config import NOTEBOOKS_DIR
from cchc_lib.publish.export import export_html, warm_exporter

KERNEL_NAME = "cchc"
EXECUTION_TIMEOUT = 600  # seconds per cell
STARTUP_TIMEOUT = 60  # seconds for a kernel to answer
ENGINE_NAME = "cchc-warm"


class ReportError(RuntimeError):
    """A report could not be produced; the message says which period, which cell and why."""


@dataclass
class ReportResult:
    period: str
    html: Path | None = None
    notebook: Path | None = None
    error: str | None = None
    seconds: float = 0.0
    size: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class ReportJob:
    """One notebook to run and publish."""

    key: str  # how results name it: the period code, or plan_key(year)
    period: str
    notebook: Path
    parameters: dict
    html: Path
    ipynb: Path
    title: str
    timeout: int = EXECUTION_TIMEOUT
    retries: int = 1
    extra: dict = field(default_factory=dict)
    # Environment variables the kernel has while this notebook runs (and not for the next one):
    # what a batch tells its reports, e.g. cchc_lib.publish.batch_frames.BATCH_ENV, without a
    # parameter that would change the notebook, the record of the run.
    environment: dict[str, str] = field(default_factory=dict)


def resolve_kernel(preferred: str = KERNEL_NAME) -> str:
    """The project's kernel if its kernelspec is installed, else the current interpreter's."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    manager = KernelSpecManager()
    try:
        spec = manager.get_kernel_spec(preferred)
        if spec.argv and (not os.path.isabs(spec.argv[0]) or os.path.exists(spec.argv[0])):
            return preferred
    except NoSuchKernel:
        pass
    return "python3"  # ipykernel's native spec runs sys.executable


# -- the warm kernel ---------------------------------------------------------------------------


def _keep_grammar_out() -> None:
    """jsonschema builds the grammar of ``rfc3987-syntax`` (0.8 s) on import when that package is
    installed (JupyterLab's jupyter-events brings it). nbformat only validates notebooks, whose
    schema has no IRI formats, so this process does without it."""
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


# Run silently (no execution count, no history) before each report: a fresh namespace, the
# execution count back at 1, the notebook's folder as working directory. Imported modules stay
# (that is the point); they hold no report's data.
CLEAR_CODE = 'get_ipython().reset(new_session=True, aggressive=False)\n'
RESET_CODE = CLEAR_CODE + '__import__("os").chdir({cwd!r})\n'
CHDIR_CODE = '__import__("os").chdir({cwd!r})\n'


def environment_code(values: dict[str, str], gone: Sequence[str]) -> str:
    """Code that sets the job's environment variables and removes the previous job's others, run
    in a namespace of its own so that it leaves no name behind."""
    source = (f"import os\nos.environ.update({dict(values)!r})\n"
              f"for name in {list(gone)!r}:\n    os.environ.pop(name, None)\n")
    return f"exec({source!r}, {{}})\n"


# What the report notebooks (report.ipynb, plan.ipynb) import, loaded once per kernel as soon as
# it is up (failures are left to the notebook that needs the module, where they are reported
# with the cell). Each module on its own: one that fails must not leave the others unloaded.
WARM_UP_MODULES = (
    "IPython.display", "cchc_lib.publish.charts", "cchc_lib.publish.report",
    "cchc_lib.publish.index766_section", "cchc_lib.projection", "cchc_lib.publish.outlook",
    "cchc_lib.publish.methods", "cchc_lib.plan", "cchc_lib.manual_figures",
    "cchc_lib.publish.plan_report",
)
WARM_UP_CODE = f"""for _name in {WARM_UP_MODULES!r}:
    try:
        __import__(_name)
    except Exception:
        pass
del _name
"""


class KernelSession:
    """One kernel kept for many notebooks (a batch worker's), reset between them."""

    def __init__(self, kernel_name: str | None = None) -> None:
        self.kernel_name = kernel_name or resolve_kernel()
        # jupyter_client's kernel manager and client, and nbclient's client (untyped libraries)
        self.km: Any = None
        self.kc: Any = None
        self._client: Any = None
        self._cleared = False  # a clear was sent after the last report (clear_soon)
        self._environment: dict[str, str] = {}  # what the last job set in the kernel
        self.reports = 0

    def launch(self) -> None:
        """Start the kernel process without waiting for it: the caller has its own imports to
        do meanwhile (two cores: the kernel boots while this process loads papermill)."""
        import nbformat
        from nbclient import NotebookClient

        client = NotebookClient(
            nbformat.v4.new_notebook(), kernel_name=self.kernel_name, startup_timeout=STARTUP_TIMEOUT,
            # The kernel's own start-up warnings (TCP without encryption) would flood a batch's
            # terminal; errors still show. No input history: IPython otherwise commits every
            # cell to the user's history.sqlite (shared by every kernel on the machine, locked
            # while written), 10-20 ms a cell, and a report has twenty-odd cells. No output
            # cache (Out, _, __; the report notebooks' cells end in display calls, and an
            # expression's value is still shown): with one, IPython's reset between reports
            # runs a full garbage collection over every object of the imported modules, 60-80
            # ms a report. No top-level await (none in the notebooks): a cell is compiled once.
            extra_arguments=["--IPKernelApp.log_level=ERROR", "--HistoryManager.enabled=False",
                             "--InteractiveShell.cache_size=0", "--InteractiveShell.autoawait=False"],
        )
        client.km = client.create_kernel_manager()
        env = {**os.environ, "CCHC_PLOTLYJS": "export"}
        client.start_new_kernel(env=env, cwd=str(NOTEBOOKS_DIR))
        self._client = client
        self.km = client.km

    def connect(self) -> None:
        """Wait for the kernel, then have it import what every report imports, without waiting
        for that either (the next request queues behind it)."""
        if self.km is None:
            self.launch()
        self._client.start_new_kernel_client()
        self.kc = self._client.kc
        self.kc.execute(WARM_UP_CODE, silent=True, store_history=False)

    def start(self) -> None:
        self.launch()
        self.connect()

    @property
    def alive(self) -> bool:
        return self.km is not None and self.kc is not None

    def reset(self, cwd: Path, environment: dict[str, str] | None = None) -> None:
        """Clear the previous report's state (starting the kernel the first time), with the
        next report's ``environment`` variables set and the previous report's others gone."""
        from jupyter_core.utils import run_sync

        if self.km is None:
            self.launch()
        if self.kc is None:
            self.connect()
        # The kernel runs requests in order: a clear sent by clear_soon is done before this.
        code = (CHDIR_CODE if self._cleared else RESET_CODE).format(cwd=str(cwd))
        self._cleared = False
        environment = dict(environment or {})
        if environment or self._environment:
            gone = sorted(set(self._environment) - set(environment))
            code += environment_code(environment, gone)
        self._environment = environment
        reply = run_sync(self.kc.execute_interactive)(
            code, silent=True, store_history=False,
            timeout=STARTUP_TIMEOUT, output_hook=lambda msg: None)
        if reply["content"].get("status") != "ok":
            raise RuntimeError(f"kernel reset failed: {reply['content'].get('evalue', '?')}")

    def clear_soon(self) -> None:
        """Send the clearing of the report just run without waiting: the kernel does it while
        this process exports that report."""
        if self.kc is not None:
            self.kc.execute(CLEAR_CODE, silent=True, store_history=False)
            self._cleared = True

    def shutdown(self) -> None:
        from jupyter_core.utils import run_sync

        km, kc, self.km, self.kc, self._client = self.km, self.kc, None, None, None
        self._cleared = False
        self._environment = {}  # a new kernel starts from the launch environment
        try:
            if kc is not None:
                kc.stop_channels()
            if km is not None:
                run_sync(km.shutdown_kernel)(now=True)
                run_sync(km.cleanup_resources)()
        except Exception:  # noqa: BLE001 - a kernel that is already gone needs no stopping
            pass


_engine_registered = False


def _register_engine() -> None:
    """papermill's nbclient engine, on the session's kernel and client instead of new ones."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    global _engine_registered
    if _engine_registered:
        return

    class WarmEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None,
                                     session: KernelSession | None = None, **kwargs):
            from papermill.engines import logger

            assert session is not None  # run_job always passes the session it warmed

            client = PapermillNotebookClient(
                nb_man, km=session.km, timeout=execution_timeout, startup_timeout=start_timeout,
                kernel_name=kernel_name, log=logger, log_output=log_output, stdout_file=stdout_file,
                stderr_file=stderr_file)
            client.kc = session.kc
            return client.execute()

    papermill_engines.register(ENGINE_NAME, WarmEngine)
    _engine_registered = True


def _first_line(source: str) -> str:
    """The first non-comment line of a cell's source (papermill's error carries the source)."""
    lines = [ln.strip() for ln in source.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    return (lines[0][:80] if lines else "?").replace("«", "").replace("»", "")


def run_job(job: ReportJob, session: KernelSession) -> ReportResult:
    """Execute ``job``'s notebook in ``session`` and publish it. Raises ReportError.

    The executed notebook and the HTML are written to temporary files and renamed into place
    only when both succeeded, so a failed run leaves an earlier report whole. A failing cell's
    notebook is kept as ``*.failed.ipynb`` to read the traceback. A kernel that died or did not
    answer is replaced and the report tried once more."""
    _keep_grammar_out()
    import nbformat
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    _register_engine()
    started = time.perf_counter()
    tmp_nb = temp_path(job.ipynb, suffix=".ipynb")
    attempt = 0
    try:
        while True:
            try:
                session.reset(job.notebook.parent, job.environment)
                pm.execute_notebook(
                    str(job.notebook), str(tmp_nb), parameters=job.parameters,
                    engine_name=ENGINE_NAME, session=session, kernel_name=session.kernel_name,
                    execution_timeout=job.timeout, start_timeout=STARTUP_TIMEOUT, progress_bar=False,
                    log_output=False, request_save_on_cell_execute=False,
                )
                session.reports += 1
                session.clear_soon()
                break
            except PapermillExecutionError as exc:
                session.clear_soon()
                failed = job.ipynb.with_suffix(".failed.ipynb")
                make_readable(tmp_nb)
                os.replace(tmp_nb, failed)
                raise ReportError(
                    f"Báo cáo {job.period}: lỗi ở ô số {exc.cell_index} của {job.notebook.name} "
                    f"(lần chạy [{exc.exec_count}], «{_first_line(exc.source or '')}»): "
                    f"{exc.ename}: {exc.evalue}. Sổ tay đã chạy (có vết lỗi): {failed}"
                ) from None
            except (RuntimeError, TimeoutError, OSError) as exc:
                # A dead or stuck kernel (or a port taken between choosing and binding it by
                # another process) is transient: a fresh kernel, once more.
                session.shutdown()
                attempt += 1
                if attempt > job.retries:
                    raise ReportError(f"Báo cáo {job.period}: không chạy được kernel: {exc}") from exc
        nb = nbformat.read(tmp_nb, as_version=4)
        write_text_atomic(job.html, export_html(nb, title=job.title))
        make_readable(tmp_nb)
        os.replace(tmp_nb, job.ipynb)
        job.ipynb.with_suffix(".failed.ipynb").unlink(missing_ok=True)
    finally:
        tmp_nb.unlink(missing_ok=True)
    return ReportResult(job.key, job.html, job.ipynb, None, time.perf_counter() - started,
                        job.html.stat().st_size)


def run_one(job: ReportJob, kernel_name: str | None = None) -> ReportResult:
    """Run one job in a kernel started for it and stopped after it."""
    session = KernelSession(kernel_name)
    try:
        _launch_quietly(session)
        _warm_parent()
        return run_job(job, session)
    finally:
        session.shutdown()


def _launch_quietly(session: KernelSession) -> None:
    """Start the kernel early; a failure is met again, and reported, by the first report."""
    try:
        session.launch()
    except Exception:  # noqa: BLE001 - run_job retries and reports it
        session.shutdown()


def _warm_parent() -> None:
    """While the kernel boots and runs the notebook: import papermill here, and build the HTML
    exporter (template compilation, 0.6 s) on a thread, so the export does not wait for it."""
    import threading

    _keep_grammar_out()
    threading.Thread(target=warm_exporter, name="cchc-export-warm-up", daemon=True).start()
    import papermill  # noqa: F401


# -- batches -----------------------------------------------------------------------------------

_worker_session: KernelSession | None = None  # the kernel of this batch worker process


def _worker_init(kernel_name: str) -> None:
    """A batch worker's set-up: its kernel, started on its first report and stopped when the
    worker ends (multiprocessing finalizers run in workers; atexit does not)."""
    from multiprocessing import util

    global _worker_session
    _forget_parent_event_loop()
    _worker_session = KernelSession(kernel_name)
    util.Finalize(None, _worker_session.shutdown, exitpriority=10)
    _launch_quietly(_worker_session)


def _forget_parent_event_loop() -> None:
    """A forked worker inherits its parent's asyncio loop (the one jupyter's run_sync keeps),
    whose epoll instance the two processes would share: closed here (the child's copies of its
    descriptors only), so that the worker's first kernel call makes a loop of its own."""
    from jupyter_core.utils import ensure_event_loop

    loop = ensure_event_loop()
    if not loop.is_running():
        loop.close()


def _run_safely(job: ReportJob, session: KernelSession) -> ReportResult:
    """Never raises, so that one failed report does not stop a batch."""
    started = time.perf_counter()
    try:
        return run_job(job, session)
    except ReportError as exc:
        return ReportResult(job.key, error=str(exc), seconds=time.perf_counter() - started)
    except Exception as exc:  # noqa: BLE001 - reported per report, the batch goes on
        return ReportResult(job.key, error=f"Báo cáo {job.key}: {type(exc).__name__}: {exc}",
                            seconds=time.perf_counter() - started)


def _worker_run(job: ReportJob) -> ReportResult:
    assert _worker_session is not None  # set by _worker_init in every worker process
    return _run_safely(job, _worker_session)


def run_jobs(jobs: Sequence[ReportJob], *, workers: int = 2, kernel_name: str | None = None,
             on_done: Callable[[], None] | None = None,
             lanes: Sequence[int] | None = None) -> list[ReportResult]:
    """Run ``jobs`` in ``workers`` processes, each with one kernel for all its reports; results
    in the order of ``jobs``. ``on_done`` is called after each report (a progress bar).

    With ``lanes`` (one number per job), the jobs of a lane run in one worker of their own, in
    their order: a batch that knows which of its reports share work puts them in one lane (each
    worker then computes only for its own reports); without, each job goes to whichever worker
    is free."""
    kernel_name = kernel_name or resolve_kernel()
    results: dict[int, ReportResult] = {}
    if lanes is not None and len(set(lanes)) > 1 and workers > 1:
        if len(lanes) != len(jobs):
            raise ValueError(f"{len(lanes)} lanes for {len(jobs)} jobs")
        _keep_grammar_out()
        import papermill  # noqa: F401 - imported once here, inherited by the forked workers

        # One single-process pool per lane: a lane's jobs always meet the same kernel.
        pools = {lane: ProcessPoolExecutor(max_workers=1, initializer=_worker_init,
                                           initargs=(kernel_name,)) for lane in dict.fromkeys(lanes)}
        try:
            futures = {pools[lane].submit(_worker_run, job): i
                       for i, (job, lane) in enumerate(zip(jobs, lanes, strict=True))}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                if on_done:
                    on_done()
        finally:
            for pool in pools.values():
                pool.shutdown(wait=True)
    elif workers <= 1 or len(jobs) == 1:
        session = KernelSession(kernel_name)
        try:
            _launch_quietly(session)
            _warm_parent()
            for i, job in enumerate(jobs):
                results[i] = _run_safely(job, session)
                if on_done:
                    on_done()
        finally:
            session.shutdown()
    else:
        _keep_grammar_out()
        import papermill  # noqa: F401 - imported once here, inherited by the forked workers

        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), initializer=_worker_init,
                                 initargs=(kernel_name,)) as pool:
            futures = {pool.submit(_worker_run, job): i for i, job in enumerate(jobs)}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                if on_done:
                    on_done()
    return [results[i] for i in range(len(jobs))]
