"""Execute the course's notebooks headless with papermill and report how each went.

    python -m coursetools.notebooks [--mode quick|full] [--device auto|cpu|cuda] [--seed N]
                                    [--jobs N] [--threads N] [--kernel NAME] [--out build]
                                    [--shard i/N] [NOTEBOOK ...]

Without notebook paths it runs every notebook in lectures/ and solutions/. Executed copies go
to build/ (the same relative path), never over the sources; the report is printed as a table
and written to build/report.json. The exit status is 1 when any notebook failed (the others
still run) and 2 for bad arguments (an unknown mode or device, no GPU for --device cuda, a
missing kernel or notebook). With --shard i/N it runs one shard of them (coursetools.shards)
and writes report-shard-i-of-N.json; `python -m coursetools.shards merge` joins the shards.
"""

import argparse
import json
import os
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

from coursetools import shards

ROOT = Path(__file__).resolve().parent.parent
LECTURES = "lectures"
DEVICE_LINE = re.compile(r"rnn_lib: device=(\w+)")
FIGURE_LINE = re.compile(r"^rnn_lib: figure (\w+) = (.*)$", re.MULTILINE)  # runtime.report


class UsageError(Exception):
    """Arguments the runner cannot work with; the message says what to do instead."""


@dataclass
class Result:
    notebook: str
    status: str  # "ok" or "failed"
    seconds: float
    device: str
    output: str
    error: str = ""
    seed: int = 0
    threads: int | None = None  # PyTorch CPU threads (OMP_NUM_THREADS) given to the kernel
    figures: dict[str, str] = field(default_factory=dict)  # what rnn_lib.runtime.report printed


def discover(root: Path = ROOT) -> list[Path]:
    """Every notebook of the course, lectures first, then the labs' solutions (nbgrader's
    source folder, coursetools.grading.layout), in name order (checkpoints skipped)."""
    from coursetools.grading.layout import layout

    found = []
    for folder in (root / LECTURES, layout(root).source):
        found += sorted(p for p in folder.rglob("*.ipynb")
                        if ".ipynb_checkpoints" not in p.parts)
    return found


def check_kernel(name: str) -> None:
    """Fail clearly when the Jupyter kernel the notebooks run on is not installed."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        raise UsageError(f"Jupyter kernel {name!r} is not installed: run `make install` "
                         "(it registers the kernel of the project's .venv)") from None


def check_device(device: str) -> None:
    """Refuse an unknown device, and --device cuda on a machine without a GPU: the rule the
    notebooks themselves apply (rnn_lib.runtime.resolve_device), before any notebook starts."""
    from rnn_lib.runtime import DEVICES, SetupError, resolve_device

    if device not in DEVICES:
        raise UsageError(f"DEVICE must be one of {', '.join(DEVICES)}, got {device!r}")
    try:
        resolve_device(device)
    except SetupError as err:
        raise UsageError(f"DEVICE={device}: {err} (make: DEVICE=auto, the default, or "
                         "DEVICE=cpu)") from None


def check_mode(mode: str) -> None:
    """Refuse a mode the notebooks do not know (rnn_lib.runtime.MODES)."""
    from rnn_lib.runtime import MODES

    if mode not in MODES:
        raise UsageError(f"MODE must be one of {', '.join(MODES)}, got {mode!r}")


def kernel_manager(env: dict[str, str]):
    """A Jupyter kernel manager class whose kernels start with `env` on top of this process's
    environment; the environment of the runner itself is never changed (papermill passes the
    class to nbclient, which makes one manager per notebook)."""
    from jupyter_client.manager import AsyncKernelManager

    class CourseKernelManager(AsyncKernelManager):
        async def start_kernel(self, **kw):
            kw["env"] = {**os.environ, **kw.get("env", {}), **env}
            return await super().start_kernel(**kw)

    return CourseKernelManager


def _describe_failure(exc: Exception, executed: Path) -> str:
    """A one-line account of a failed notebook: which cell of the source, which error."""
    from papermill.exceptions import PapermillExecutionError

    if not isinstance(exc, PapermillExecutionError):
        return f"{type(exc).__name__}: {exc}"
    index = exc.cell_index
    try:  # papermill inserted an injected-parameters cell; count cells as in the source
        cells = json.loads(executed.read_text())["cells"]
        index -= sum("injected-parameters" in c["metadata"].get("tags", [])
                     for c in cells[:exc.cell_index])
    except (OSError, ValueError, KeyError):
        pass
    first_line = next((ln for ln in exc.source.splitlines() if ln.strip()), "").strip()
    return (f"cell {index + 1} (counting from 1 in the source notebook: {first_line[:60]!r}) "
            f"raised {exc.ename}: {exc.evalue}".strip())


def _printed(path: Path) -> str:
    """Everything the executed notebook printed on stdout, cell after cell ('' if unreadable)."""
    try:
        nb = json.loads(path.read_text())
    except (OSError, ValueError):
        return ""
    parts = []
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            text = out.get("text", "")
            parts.append("".join(text) if isinstance(text, list) else text)
    return "".join(parts)


def _device_used(printed: str) -> str:
    """The device the notebook reported from rnn_lib.runtime.setup ('?' when it did not)."""
    match = DEVICE_LINE.search(printed)
    return match.group(1) if match else "?"


def _figures(printed: str) -> dict[str, str]:
    """name -> value of every `rnn_lib: figure` line (rnn_lib.runtime.report); last one wins."""
    return {name: value.strip() for name, value in FIGURE_LINE.findall(printed)}


def run_one(notebook: Path, out: Path, *, mode: str = "quick", device: str = "auto",
            seed: int = 0, kernel: str = "rnn-course", timeout: int | None = None,
            threads: int | None = None) -> Result:
    """Execute one notebook with papermill into `out` and return what happened.

    threads: CPU threads for the kernel's PyTorch (OMP_NUM_THREADS); when several notebooks
    share the cores, one thread each avoids oversubscription, which slows small RNNs tenfold.
    """
    import papermill

    out.parent.mkdir(parents=True, exist_ok=True)
    # The kernel starts with these variables; the parameters cell reads the RNN_ ones too,
    # so a notebook's own defaults agree with what papermill injects.
    # RNN_PROGRESS=0: no tqdm widgets, whose stored output would be a stale "0it" bar.
    env = {"RNN_MODE": mode, "RNN_DEVICE": device, "RNN_SEED": str(seed), "RNN_PROGRESS": "0"}
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    threads = threads or _env_threads()
    start = time.perf_counter()
    error = ""
    try:
        papermill.execute_notebook(
            str(notebook), str(out),
            parameters={"quick": mode == "quick", "device": device, "seed": seed},
            kernel_name=kernel, cwd=str(notebook.parent), progress_bar=False,
            execution_timeout=timeout, kernel_manager_class=kernel_manager(env),
        )
    except Exception as exc:  # a failed notebook is reported, never fatal to the others
        error = _describe_failure(exc, out)
    seconds = time.perf_counter() - start
    printed = _printed(out)
    return Result(_relative(notebook), "failed" if error else "ok", round(seconds, 1),
                  _device_used(printed), _relative(out), error, seed=seed,
                  threads=threads, figures=_figures(printed))


def recorded(notebook: Path, out: Path) -> Result:
    """The Result of a run read back from its executed copy (what it printed, its figures)."""
    printed = _printed(out)
    try:
        meta = json.loads(out.read_text())["metadata"].get("papermill", {})
    except (OSError, ValueError, KeyError):
        meta = {"exception": True}
    return Result(_relative(notebook), "failed" if meta.get("exception") else "ok",
                  round(meta.get("duration") or 0.0, 1), _device_used(printed), _relative(out),
                  seed=meta.get("parameters", {}).get("seed", 0), figures=_figures(printed))


def _env_threads() -> int | None:
    raw = os.environ.get("OMP_NUM_THREADS", "")
    return int(raw) if raw.isdigit() else None


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def executed_path(notebook: Path, out_dir: Path) -> Path:
    """Where a run writes the executed copy of `notebook`: its path in the repository under
    `out_dir` (just its name for a notebook outside the repository)."""
    try:
        return out_dir / notebook.resolve().relative_to(ROOT)
    except ValueError:
        return out_dir / notebook.name


def _job(args):
    notebook, out, kwargs = args
    return run_one(notebook, out, **kwargs)


def run_all(notebooks: list[Path], out_dir: Path, *, jobs: int = 1, threads: int | None = None,
            **kwargs) -> list[Result]:
    """Run notebooks (in `jobs` worker processes) and return results in the input order.

    Unless `threads` is given (or OMP_NUM_THREADS is set), each notebook's PyTorch uses one
    CPU thread: the course's models are small, and extra threads mostly add synchronisation
    (measured on 2 cores: lecture 02 took 328 s with two threads, under a minute with one).
    Use `jobs` to keep the cores busy instead.
    """
    if threads is None and not os.environ.get("OMP_NUM_THREADS"):
        threads = 1
    kwargs["threads"] = threads
    tasks = [(nb, executed_path(nb, out_dir), kwargs) for nb in notebooks]
    if jobs <= 1:
        results = []
        for task in tasks:
            print(f"running {_relative(task[0])} ...", flush=True)
            results.append(_job(task))
            print(_line(results[-1]), flush=True)
        return results
    print(f"running {len(tasks)} notebooks, {jobs} at a time ...", flush=True)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(_job, task): i for i, task in enumerate(tasks)}
        results = [None] * len(tasks)
        for future in as_completed(futures):
            results[futures[future]] = result = future.result()
            print(_line(result), flush=True)
    return results


def _line(r: Result) -> str:
    return f"  {r.status:6} {r.seconds:7.1f} s  {r.device:5} {r.notebook}"


def format_figures(figures: dict[str, str]) -> str:
    """The figures a notebook reported, as `name=value` pairs on one line."""
    return ", ".join(f"{name}={value}" for name, value in figures.items())


def text_table(header: list[str], rows: list[list[str]], right: set[int] = frozenset()
               ) -> list[str]:
    """A plain-text table's lines: the header, a rule of dashes, then the rows; each column as
    wide as its widest cell, left-aligned but for the columns numbered in `right`."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells):
        return "  ".join(cell.rjust(w) if k in right else cell.ljust(w)
                         for k, (cell, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(row) for row in rows)]


def format_report(results: list[Result], mode: str) -> str:
    """The report as a plain-text table, failures listed with their cell below it."""
    lines = text_table(["notebook", "status", "seconds", "device", "figures"],
                       [[r.notebook, r.status, f"{r.seconds:.1f}", r.device,
                         format_figures(r.figures)] for r in results], right={2})
    failed = [r for r in results if r.status != "ok"]
    total = sum(r.seconds for r in results)
    lines.append(f"{len(results) - len(failed)} of {len(results)} notebooks ran ({mode} mode), "
                 f"{total:.1f} s of notebook time")
    for r in failed:
        lines.append(f"FAILED {r.notebook}: {r.error}")
        lines.append(f"       the executed copy, with the traceback, is {r.output}")
    return "\n".join(lines)


def chosen_notebooks(paths: list[Path]) -> list[Path]:
    """The notebooks a command line names (NB), or every one (discover()) when it names none;
    UsageError for a path that is not a notebook file, or when there is no notebook."""
    notebooks = list(paths) or discover()
    missing = [str(p) for p in notebooks if not p.is_file() or p.suffix != ".ipynb"]
    if missing:
        raise UsageError(f"not a notebook file: {', '.join(missing)}")
    if not notebooks:
        raise UsageError("no notebooks found in lectures/ or solutions/")
    return notebooks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook")
    parser.add_argument("--mode", default="quick", help="quick (default) or full")
    parser.add_argument("--device", default="auto", help="auto (default), cpu or cuda")
    parser.add_argument("--seed", default="0")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks run at once")
    parser.add_argument("--threads", type=int, default=None,
                        help="PyTorch CPU threads per notebook (default 1, or OMP_NUM_THREADS)")
    parser.add_argument("--kernel", default="rnn-course")
    parser.add_argument("--timeout", type=int, default=None, help="seconds per cell")
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    parser.add_argument("--shard", default=None,
                        help="i/N: run shard i of N only (coursetools.shards), balanced by the "
                             "seconds of <out>/report.json; its report goes to "
                             "<out>/report-shard-i-of-N.json")
    args = parser.parse_args(argv)
    try:
        check_mode(args.mode)
        check_device(args.device)
        try:
            seed = int(args.seed)
        except ValueError:
            raise UsageError(f"SEED must be an integer, got {args.seed!r}") from None
        if args.jobs < 1:
            raise UsageError(f"JOBS must be at least 1, got {args.jobs}")
        if args.threads is not None and args.threads < 1:
            raise UsageError(f"THREADS must be at least 1, got {args.threads}")
        check_kernel(args.kernel)
        notebooks = chosen_notebooks(args.notebooks)
        shard = None
        if args.shard:
            try:
                shard = shards.parse(args.shard)
            except shards.ShardError as exc:
                raise UsageError(str(exc)) from None
            names = [_relative(p) for p in notebooks]
            mine = shards.balance(names, shards.recorded_seconds(args.out / "report.json"),
                                  shard[1])[shard[0] - 1]
            notebooks = [p for p, name in zip(notebooks, names, strict=True) if name in mine]
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    results = run_all(notebooks, args.out, jobs=args.jobs, threads=args.threads, mode=args.mode,
                      device=args.device, seed=seed, kernel=args.kernel, timeout=args.timeout)
    report = format_report(results, args.mode)
    print(report)
    args.out.mkdir(parents=True, exist_ok=True)
    record = {"mode": args.mode, "device": args.device, "seed": seed,
              "results": [asdict(r) for r in results]}
    name = "report.json"
    if shard:
        record["shard"] = {"index": shard[0], "count": shard[1]}
        name = shards.report_name(*shard)
    (args.out / name).write_text(json.dumps(record, indent=2) + "\n")
    print(f"report written to {_relative(args.out / name)}"
          + (" (merge the shards' reports with `make merge-reports`)" if shard else ""))
    return 1 if any(r.status != "ok" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
