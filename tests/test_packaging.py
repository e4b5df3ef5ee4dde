"""The package metadata, environment.yml and the Makefile agree with each other."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _pins(requirements):
    pins = {}
    for req in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", req.strip())
        assert match, f"expected an exact pin NAME==VERSION, got {req!r}"
        pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


def test_every_dependency_is_pinned_and_torch_is_the_local_cpu_build():
    project = _pyproject()["project"]
    runtime = _pins(project["dependencies"])
    dev = _pins(project["optional-dependencies"]["dev"])
    assert runtime["torch"] == "2.13.0"
    assert {"numpy", "matplotlib", "tqdm", "jupyterlab", "nbgrader", "papermill",
            "ipykernel"} <= set(runtime)
    assert {"pytest", "ruff"} <= set(dev)
    assert runtime["jupyterlab"].startswith("4.") and runtime["nbgrader"].startswith("0.9.")


def test_environment_yml_lists_the_same_pins_as_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    assert "python=3.11" in deps
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    conda_pins = _pins(r for r in pip_section if not r.startswith("-e"))
    project = _pyproject()["project"]
    expected = _pins(project["dependencies"] + project["optional-dependencies"]["dev"])
    assert conda_pins == expected, (
        "environment.yml and pyproject.toml disagree: "
        f"only in environment.yml {sorted(set(conda_pins.items()) - set(expected.items()))}, "
        f"only in pyproject.toml {sorted(set(expected.items()) - set(conda_pins.items()))}")
    assert "-e ." in pip_section, "environment.yml must install the course package itself"


def test_installed_versions_match_the_pins():
    from importlib.metadata import version

    project = _pyproject()["project"]
    for name, pinned in _pins(project["dependencies"]).items():
        installed = version(name)
        assert installed.split("+")[0] == pinned, f"{name}: pinned {pinned}, installed {installed}"


def test_make_help_lists_every_target_with_a_description():
    out = subprocess.run(["make", "--no-print-directory", "help"], cwd=ROOT, text=True,
                         capture_output=True, check=True).stdout
    for target in ("all", "install", "notebooks", "test", "lab"):
        assert re.search(rf"make {target}\s+\S", out), f"make help does not list {target}"
    targets = set(re.findall(r"^([a-zA-Z_-]+):", (ROOT / "Makefile").read_text(), re.M))
    listed = set(re.findall(r"make (\S+)", out))
    assert targets - {"help"} <= listed | {t for t in targets if t.startswith("$")}


def test_ci_runs_the_readme_test_command_and_nothing_else():
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
          if line.strip() and not line.lstrip().startswith("#")]
    assert ci[-1].strip() in ("make test", "exec make test")
    assert "make test" in (ROOT / "README.md").read_text()


def test_the_kernel_runs_this_venv_python():
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("rnn-course")
    assert Path(spec.argv[0]).resolve() == Path(sys.executable).resolve(), (
        f"kernel rnn-course runs {spec.argv[0]}, not this environment's {sys.executable}: "
        "run `make install`")
