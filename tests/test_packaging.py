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


WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
SCHEMA_CHECK = [str(ROOT / ".venv" / "bin" / "check-jsonschema"),
                "--builtin-schema", "vendor.github-workflows"]


def test_the_workflows_validate_offline_and_a_broken_one_would_not(tmp_path):
    assert {w.name for w in WORKFLOWS} >= {"test.yml", "notebooks-gpu.yml"}
    done = subprocess.run(SCHEMA_CHECK + [str(w) for w in WORKFLOWS], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOWS[0].read_text().replace("runs-on:", "runs_on:"))
    done = subprocess.run(SCHEMA_CHECK + [str(broken)], capture_output=True, text=True)
    assert done.returncode != 0 and "'runs-on' is a required property" in done.stdout


def test_the_cpu_workflow_runs_the_readme_test_command_and_the_gpu_one_full_mode():
    cpu = yaml.safe_load((ROOT / ".github" / "workflows" / "test.yml").read_text())
    steps = [s.get("run", "") for job in cpu["jobs"].values() for s in job["steps"]]
    assert "make test" in steps
    gpu = (ROOT / ".github" / "workflows" / "notebooks-gpu.yml").read_text()
    assert "make notebooks MODE=full DEVICE=cuda" in gpu and "upload-artifact" in gpu


def test_pre_commit_runs_make_lints_checks_with_local_hooks_only():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    assert [repo["repo"] for repo in config["repos"]] == ["local"], (
        "a hook from a remote repository is fetched from the network")
    hooks = {h["id"]: h for repo in config["repos"] for h in repo["hooks"]}
    for hook in hooks.values():
        assert hook["language"] == "system"
        executable = ROOT / hook["entry"].split()[0]
        assert executable.is_file(), f"hook {hook['id']}: {executable} is not installed"
    lint = subprocess.run(["make", "--no-print-directory", "-n", "lint"], cwd=ROOT, text=True,
                          capture_output=True, check=True).stdout
    for hook in ("ruff", "workflows"):
        assert hooks[hook]["entry"].split("/")[-1] in lint, f"make lint does not run {hook}"
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "pre-commit"), "validate-config",
                           str(ROOT / ".pre-commit-config.yaml")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_package_docstring_lists_every_module_of_rnn_lib_once():
    import rnn_lib

    listing = rnn_lib.__doc__.split("The modules, by what they are:", 1)[1]
    column = 4 + len("cells and layers   ")  # the modules follow the group's name
    listed = re.findall(r"[a-z_0-9]+", " ".join(line[column:] for line in listing.splitlines()))
    modules = sorted(p.stem for p in (ROOT / "rnn_lib").glob("*.py") if p.stem != "__init__")
    assert sorted(listed) == modules, (
        f"rnn_lib/__init__.py lists {sorted(set(modules) - set(listed))} nowhere, "
        f"{sorted(m for m in set(listed) if listed.count(m) > 1)} twice and "
        f"{sorted(set(listed) - set(modules))} that do not exist")
