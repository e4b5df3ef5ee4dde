"""Run each student's kernel in a bubblewrap sandbox, with memory, time and output limits.

nbgrader runs a submission's kernel as the grader, in the submission's folder: it can read
`solutions/`, the gradebook and other students' work, write anywhere the grader can, and run
forever. Here the trusted side (nbgrader, this module) stays outside and only the kernel goes
into the sandbox:

    prlimit --as=MEMORY --fsize=FILE_SIZE --core=0 -- bwrap --ro-bind / / (then the mounts below)
        -- python -m ipykernel_launcher -f CONNECTION_FILE

* `--ro-bind / /`: the kernel sees the machine read-only;
* `--tmpfs` over the course root, /tmp, /var/tmp, /root, /home (and `Sandbox.hidden_paths`):
  solutions, gradebook, hidden tests, submitted/, autograded/ and feedback/ of everybody vanish;
* read-only binds put back only what a kernel needs: the Python installation (`sys.prefix`,
  `sys.base_prefix`) and the packages named in `Sandbox.readable_packages` (rnn_lib);
* the kernel's working folder is a small, empty tmpfs at the path of the submission's autograded
  folder, with the assignment's data files bound read-only into it (never the notebook, which
  holds the hidden tests): it writes only there, and all of it is thrown away afterwards;
* `--unshare-net --unshare-pid --unshare-ipc --unshare-uts --die-with-parent --cap-drop ALL`,
  `--clearenv` with a short list of variables (RNN_MODE=quick, RNN_DEVICE=cpu by default, and
  one PyTorch thread: `Sandbox.threads`, whatever the grader's OMP_NUM_THREADS says);
* the client talks to the kernel over the `ipc` transport (Unix sockets in a private folder
  bound into the sandbox), since loopback TCP does not cross network namespaces.

`SandboxedExecute` replaces nbgrader's `Execute` in `Autograde.autograde_preprocessors`. Beside
nbgrader's per-cell timeout it enforces a wall-clock limit for the whole notebook, caps the
output a cell may produce, and turns a kernel that dies (os._exit, killed) into error outputs:
the cell it died in and every cell after it score zero, the cells before keep their results.
"""

import functools
import glob
import importlib.util
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Bool, Dict, Integer, List, Unicode, default
from traitlets.config import LoggingConfigurable

from rnn_lib.labcheck import MIME

GiB = 2**30
MiB = 2**20
# Variables a kernel may inherit from the grader (everything else is cleared).
PASSED_ENV = ("LANG", "LC_ALL", "TZ", "PYTHONHASHSEED")
# The thread pools of PyTorch (OpenMP), MKL and OpenBLAS: each kernel gets `Sandbox.threads`.
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
PASSED_PREFIXES = ("RNN_", "JPY_")
# Outputs whose ename marks a notebook the grader had to stop (report.py reads these).
KERNEL_DIED = "KernelDied"
NOT_RUN = "NotRun"


class SandboxError(RuntimeError):
    """The sandbox cannot be set up on this machine (bwrap missing or not permitted)."""


class Sandbox(LoggingConfigurable):
    """What a student's kernel may see, use and write (configure as `c.Sandbox.*`)."""

    enabled = Bool(True, help="Run kernels in bubblewrap; False only for trusted notebooks.").tag(
        config=True)
    bwrap = Unicode("bwrap", help="The bubblewrap executable.").tag(config=True)
    course_root = Unicode("", help="The course root, hidden from the kernel (default: cwd).").tag(
        config=True)
    memory = Integer(4 * GiB, help="Address-space limit of the kernel in bytes (0: none).").tag(
        config=True)
    wall_seconds = Integer(1800, help="Wall-clock limit for a whole notebook (0: none).").tag(
        config=True)
    file_size = Integer(256 * MiB, help="Largest file the kernel may write, in bytes.").tag(
        config=True)
    cpu_seconds = Integer(600, help="CPU time of any one process of the kernel, in seconds: a "
                                     "thread storm spends it fast and is killed; a lab's quick "
                                     "run needs under 60 s (0: none).").tag(
        config=True)
    max_tasks = Integer(256, help="Processes and threads in the sandbox at once (a kernel uses "
                                  "about 20); beyond it the kernel is killed, so a fork bomb "
                                  "ends in a second (0: none)."
                        ).tag(config=True)
    tmp_size = Integer(256 * MiB, help="Size of the kernel's /tmp and working folder.").tag(
        config=True)
    max_output_bytes = Integer(1 * MiB, help="Output kept per cell; the rest is dropped.").tag(
        config=True)
    hidden_paths = List(Unicode(), help="More folders to hide from the kernel.").tag(config=True)
    readable_paths = List(Unicode(), help="Paths put back read-only after hiding.").tag(
        config=True)
    readable_packages = List(Unicode(), ["rnn_lib"],
                             help="Importable packages whose folders stay readable.").tag(
        config=True)
    env = Dict(help="Kernel environment defaults; the grader's own RNN_* variables win.").tag(
        config=True)
    threads = Integer(1, help="CPU threads of each kernel's PyTorch (OMP_NUM_THREADS): with "
                              "JOBS kernels at once, JOBS x threads should not exceed the cores "
                              "(2-core CPU: one thread, JOBS=2; PyTorch's default, a thread per "
                              "core in each kernel, made lab 3's training cell 8x slower)."
                     ).tag(config=True)

    def limits(self) -> dict:
        """Every configurable setting in force, {name: value} (what check-sandbox prints)."""
        return {name: getattr(self, name) for name in sorted(self.class_trait_names(config=True))}

    @default("env")
    def _env_default(self):
        return {"RNN_MODE": "quick", "RNN_DEVICE": "cpu", "RNN_SEED": "0"}

    # -- what the kernel sees ------------------------------------------------------------
    def root(self) -> Path:
        return Path(self.course_root or os.getcwd()).resolve()

    def hidden(self) -> list[str]:
        """Folders replaced by an empty tmpfs, parents first (all read-only but /tmp)."""
        paths = [str(self.root()), "/tmp", "/var/tmp", "/root", "/home", "/run/user"]
        paths += self.hidden_paths
        real = _unique(os.path.realpath(p) for p in paths if os.path.isdir(p))
        return sorted(real, key=lambda p: p.count("/"))

    def readable(self) -> list[str]:
        paths = [sys.prefix, sys.base_prefix, *self.readable_paths]
        for name in self.readable_packages:
            spec = importlib.util.find_spec(name)
            if spec is not None and spec.submodule_search_locations:
                paths += list(spec.submodule_search_locations)
            paths += _installed_locations(name)
        return _unique(os.path.realpath(p) for p in paths if os.path.exists(p))

    def kernel_env(self, home: str, mpl: str) -> dict[str, str]:
        env = dict(self.env)
        for key, value in os.environ.items():
            if key in PASSED_ENV or key.startswith(PASSED_PREFIXES):
                env[key] = value
        env.update(dict.fromkeys(THREAD_ENV, str(self.threads)))
        env.update(HOME=home, MPLCONFIGDIR=mpl, PYTHONDONTWRITEBYTECODE="1",
                   PATH=f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin")
        env.setdefault("LANG", "C.UTF-8")
        return env

    def wrap(self, cmd: list[str], cwd: str, runtime: str) -> list[str]:
        """The kernel command `cmd`, wrapped in limits and the sandbox."""
        if not shutil.which(self.bwrap):
            raise SandboxError(
                f"expected the bubblewrap executable {self.bwrap!r} on PATH, got nothing: "
                "install it (make sandbox-deps, or apt-get install bubblewrap)")
        cwd = os.path.realpath(cwd)
        home, mpl = f"{runtime}/home", f"{runtime}/mpl"
        os.makedirs(home, exist_ok=True)
        os.makedirs(mpl, exist_ok=True)
        _copy_font_cache(mpl)
        args = [self.bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
        for path in self.hidden():
            args += ["--size", str(self.tmp_size), "--tmpfs", path]
        for path in self.readable():
            args += ["--ro-bind", path, path]
        for path in _linked(sys.prefix, os.path.dirname(sys.executable)):
            args += ["--ro-bind", os.path.realpath(path), path]  # a .venv that is a link
        # The working folder: an empty tmpfs with the assignment's data files, read-only.
        args += ["--size", str(self.tmp_size), "--tmpfs", cwd]
        for name in sorted(os.listdir(cwd)) if os.path.isdir(cwd) else []:
            path = os.path.join(cwd, name)
            if not name.endswith(".ipynb") and not os.path.islink(path):
                args += ["--ro-bind", path, path]
        args += ["--bind", runtime, runtime, "--chdir", cwd]
        for path in self.hidden():  # writes there would vanish anyway: refuse them
            if path != "/tmp":
                args += ["--remount-ro", path]
        args += ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
                 "--unshare-cgroup-try", "--die-with-parent", "--cap-drop", "ALL", "--clearenv"]
        for key, value in sorted(self.kernel_env(home, mpl).items()):
            args += ["--setenv", key, value]
        limits = ["prlimit", f"--fsize={self.file_size}", "--core=0"]
        if self.memory:
            limits.append(f"--as={self.memory}")
        if self.cpu_seconds:  # SIGXCPU at the soft limit, SIGKILL 5 s of CPU later
            limits.append(f"--cpu={self.cpu_seconds}:{self.cpu_seconds + 5}")
        return [*limits, "--", *args, "--", *cmd]


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel runs inside `Sandbox` and talks over Unix sockets."""

    @default("transport")
    def _transport_default(self):
        return "ipc"

    @property
    def kernel_spec(self):
        spec = super().kernel_spec
        if spec is not None:
            # A signal to the process group does not reach a kernel inside bwrap's PID
            # namespace; the kernel interrupts itself when asked on its control channel.
            spec.interrupt_mode = "message"
        return spec

    async def _async_pre_start_kernel(self, **kw):
        self._runtime = tempfile.mkdtemp(prefix="nbg-kernel-")
        self.connection_file = os.path.join(self._runtime, "kernel.json")
        self.ip = os.path.join(self._runtime, "ipc")
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        # The kernel's own stdout/stderr are the student's: never the grader's pipes (a
        # flood would fill the grader's memory, a forged line could fool it).
        self._stdio = open(os.path.join(self._runtime, "kernel-output.log"), "wb")  # noqa: SIM115
        kw.update(stdin=subprocess.DEVNULL, stdout=self._stdio, stderr=self._stdio)
        connection = await super()._async_launch_kernel(kernel_cmd, **kw)
        process = getattr(self.provisioner, "process", None)
        limit = Sandbox(parent=self).max_tasks
        if process is not None and limit:
            self.watchdog = TaskWatchdog(process.pid, limit)
            self.watchdog.start()
        return connection

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        cwd = self._launch_args.get("cwd") or os.getcwd()
        return Sandbox(parent=self).wrap(cmd, cwd, self._runtime)

    async def _async_cleanup_resources(self, restart=False):
        if getattr(self, "watchdog", None):
            self.watchdog.stop()
        await super()._async_cleanup_resources(restart=restart)
        if getattr(self, "_stdio", None):
            self._stdio.close()
        if not restart and getattr(self, "_runtime", None):
            shutil.rmtree(self._runtime, ignore_errors=True)


class SandboxedExecute(Execute):
    """nbgrader's Execute with the sandbox, a whole-notebook deadline and an output cap."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # nbgrader builds this with parent=<exporter>: the Sandbox gets its config from us.
        self.sandbox = Sandbox(parent=self)
        if self.sandbox.enabled:
            self.kernel_manager_class = SandboxedKernelManager

    def preprocess(self, nb, resources=None, km=None):
        wall = self.sandbox.wall_seconds
        self._deadline = time.monotonic() + wall if wall else math.inf
        self._stopped = ""  # why the remaining cells cannot run, once the kernel is gone
        self._out_bytes = {}
        return super().preprocess(nb, resources, km=km)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        remaining = self._deadline - time.monotonic()
        if not self._stopped and remaining <= 0:
            self._stopped = (f"the notebook ran past its wall-clock limit of "
                             f"{self.sandbox.wall_seconds} s")
        if self._stopped:
            cell.outputs = [_error(NOT_RUN, f"this cell was not run: {self._stopped}")]
            cell.execution_count = None
            return cell, resources
        saved = self.timeout
        if self.timeout and remaining < self.timeout:
            self.timeout = max(1, math.ceil(remaining))
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            why = self._death_reason()
        except CellTimeoutError:  # interrupted at the timeout, but it would not stop
            why = "it went on running after the interrupt at the cell timeout"
        else:
            return cell, resources
        finally:
            self.timeout = saved
        self._stopped = f"the kernel stopped in an earlier cell ({why})"
        cell.outputs.append(_error(KERNEL_DIED, f"the kernel stopped while running this cell "
                                                f"({why})"))
        return cell, resources

    def _death_reason(self) -> str:
        watchdog = getattr(self.km, "watchdog", None)
        if watchdog is not None and watchdog.fired:
            return watchdog.fired
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        code = process.poll() if process is not None else None
        if code is None:
            return "it stopped answering"
        if code < 0 or code >= 128:
            number = -code if code < 0 else code - 128
            if number == signal.SIGXCPU:
                return (f"killed by signal {number}: a process used up its CPU-time limit of "
                        f"{self.sandbox.cpu_seconds} s")
            return f"killed by signal {number}; the memory limit may have been reached"
        return f"it exited with status {code}"

    def output(self, outs, msg, display_id, cell_index):
        """Keep at most `Sandbox.max_output_bytes` of output per cell; errors are always kept."""
        if msg["msg_type"] == "error":
            return super().output(outs, msg, display_id, cell_index)
        content = msg["content"]
        size = len(content.get("text", "")) + len(json.dumps(content.get("data", "")))
        # the values a test checked (rnn_lib.labcheck) have their own budget: a flood of
        # ordinary output must not crowd them out
        key = (cell_index, MIME in content.get("data", {}))
        total = self._out_bytes.get(key, 0) + size
        self._out_bytes[key] = total
        limit = self.sandbox.max_output_bytes
        if not limit or total <= limit:
            return super().output(outs, msg, display_id, cell_index)
        name = msg["content"].get("name", "stdout") if msg["msg_type"] == "stream" else "stdout"
        note = f"\n... output truncated by the grader (more than {limit} bytes) ...\n"
        if not any(o.get("output_type") == "stream" and o.get("name") == name
                   and o.get("text") == note for o in outs):
            out = new_output("stream", name=name, text=note)
            outs.append(out)
            return out
        return None


class TaskWatchdog(threading.Thread):
    """Kills the sandbox (the process `pid` and all below it) once it holds more than `limit`
    processes and threads together: a fork bomb or a thread storm ends within a second.

    RLIMIT_NPROC would count every process of the grader's user (and none for root), so the
    sandbox's own tree is counted instead, from /proc.
    """

    def __init__(self, pid: int, limit: int, every: float = 0.2):
        super().__init__(daemon=True, name=f"sandbox-watchdog-{pid}")
        self.pid, self.limit, self.every = pid, limit, every
        self.fired = ""
        self._stop_event = threading.Event()

    def stop(self):
        self._stop_event.set()

    def run(self):
        while not self._stop_event.wait(self.every):
            pids, tasks = tree(self.pid)
            if not pids:
                return
            if tasks > self.limit:
                self.fired = (f"more than {self.limit} processes and threads at once "
                              f"({tasks} counted): a fork bomb or a thread storm was stopped")
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                return


def tree(root: int) -> tuple[list[int], int]:
    """(the pids of `root` and its descendants, their number of threads in all), from /proc."""
    children: dict[int, list[int]] = {}
    threads: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)  # field 4: ppid
        threads[pid] = int(fields[17])  # field 20: num_threads
    if root not in threads:
        return [], 0
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found, sum(threads.get(pid, 1) for pid in found)


def check_sandbox(sandbox: Sandbox | None = None) -> None:
    """Raise SandboxError unless bwrap can start a sandbox like the kernel's on this machine."""
    sandbox = sandbox or Sandbox()
    with tempfile.TemporaryDirectory(prefix="nbg-check-") as runtime:
        cmd = sandbox.wrap([sys.executable, "-c", "print('ok')"], runtime, runtime)
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise SandboxError(f"expected bwrap to start a sandbox, got {err}") from err
        if done.returncode != 0 or done.stdout.strip() != "ok":
            raise SandboxError("expected bwrap to start a sandbox, got exit status "
                               f"{done.returncode}: {done.stderr.strip()[-500:]}")


def _error(ename: str, evalue: str):
    return new_output("error", ename=ename, evalue=evalue,
                      traceback=[f"\x1b[0;31m{ename}\x1b[0m: {evalue}"])


def _copy_font_cache(target: str) -> None:
    """Copy matplotlib's font cache for the kernel, so it does not rebuild it (slow, noisy)."""
    homes = [os.environ.get("MPLCONFIGDIR", ""),
             os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                          "matplotlib")]
    for home in homes:
        for path in glob.glob(os.path.join(home, "fontlist-*.json")) if home else []:
            shutil.copy(path, target)


@functools.cache
def _installed_locations(name: str) -> list[str]:
    """Where a fresh interpreter (the kernel) imports package `name` from: an editable install
    may point elsewhere than the current folder's copy that find_spec sees here."""
    code = (f"import importlib.util as u; s = u.find_spec({name!r}); "
            "print(*(s.submodule_search_locations or []) if s else [], sep='\\n')")
    done = subprocess.run([sys.executable, "-c", code], cwd="/", capture_output=True, text=True,
                          timeout=60)
    return [line for line in done.stdout.splitlines() if line.strip()]


def _linked(*paths: str) -> list[str]:
    """Those of `paths` reached through a symbolic link (the kernel starts from them)."""
    return _unique(os.path.abspath(p) for p in paths
                   if os.path.realpath(p) != os.path.abspath(p))


def _unique(items) -> list[str]:
    return list(dict.fromkeys(items))
