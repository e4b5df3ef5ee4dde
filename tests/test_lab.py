"""`make lab`, as the README gives it: JupyterLab answers, with Formgrader, the Assignment List
and RISE enabled.

It runs in a fresh copy of the repository (coursetools.checkout), on a free localhost port,
with a token of its own, and is stopped at the end.
"""

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from coursetools import checkout

REPO = Path(__file__).resolve().parent.parent
CONFIG = re.compile(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                    re.DOTALL)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, token: str) -> tuple[int, str]:
    """GET with the server's token in a header, which survives redirects (a query does not)."""
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


@pytest.fixture
def lab(tmp_path):
    course = checkout.fresh_copy(REPO, tmp_path / "course")
    port, token = _free_port(), secrets.token_hex(16)
    args = (f"--no-browser --ip=127.0.0.1 --port={port} --ServerApp.port_retries=0 "
            f"--IdentityProvider.token={token}"
            + (" --allow-root" if os.geteuid() == 0 else ""))  # CI runs as root
    log = tmp_path / "lab.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(["make", "--no-print-directory", "lab", f"LAB_ARGS={args}"],
                                cwd=course, env=checkout.user_env(REPO), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, f"make lab exited:\n{log.read_text()[-3000:]}"
            try:
                if _get(f"{base}/api/status", token)[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            assert time.monotonic() < deadline, f"no answer in 120 s:\n{log.read_text()[-3000:]}"
            time.sleep(1)
        yield base, token, course, log
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def test_make_lab_serves_jupyterlab_with_formgrader_assignment_list_and_rise(lab):
    base, token, course, log = lab
    status, page = _get(f"{base}/lab", token)
    assert status == 200
    config = json.loads(CONFIG.search(page).group(1))
    extensions = {e["name"] for e in config["federated_extensions"]}
    assert {"@jupyter/nbgrader", "jupyterlab-rise"} <= extensions, sorted(extensions)
    disabled = " ".join(config.get("disabledExtensions", []))
    for name in ("nbgrader", "rise"):
        assert name not in disabled, f"{name} is disabled: {disabled}"
    # Formgrader's own page, and the Assignment List's API, both answer
    status, page = _get(f"{base}/formgrader", token)
    assert status == 200 and "Manage Assignments" in page, page[:500]
    status, listing = _get(f"{base}/assignments?course_id=rnn-course", token)
    assert status == 200 and json.loads(listing)["success"], listing[:500]
    # RISE's server part serves its slideshow app for a lecture (a 404 without RISE)
    status, page = _get(f"{base}/rise/lectures/01_rnn_cell.ipynb", token)
    assert status == 200 and "<title>Rise</title>" in page, "RISE is not served"
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
