"""Every `from reasoningrec... import X` in the entry scripts (benchmarks/, scripts/, training/,
app.py) names a module and attribute that exist: a library move must carry the scripts along
(benchmarks/build_speed.py still imported the pre-#16 `reasoningrec.rank` and
`reasoningrec.scorers`, and no test ran it).

    .venv/bin/python -m pytest tests/test_entry_imports.py -q
"""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted([*ROOT.glob("benchmarks/*.py"), *ROOT.glob("scripts/*.py"),
                  *ROOT.glob("training/*.py"), ROOT / "app.py"])


def library_imports(path: Path) -> list[tuple[str, str | None]]:
    """(module, name or None) of every reasoningrec import in the file, nested ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("reasoningrec"):
            found += [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(a.name, None) for a in node.names if a.name.startswith("reasoningrec")]
    return found


def missing(module: str, name: str | None) -> str | None:
    try:
        mod = importlib.import_module(module)
    except ImportError as err:
        return f"{module}: {err}"
    if name is None or name == "*" or hasattr(mod, name):
        return None
    try:
        importlib.import_module(f"{module}.{name}")
    except ImportError:
        return f"{module} has no {name}"
    return None


def test_entry_scripts_import_what_the_library_has():
    assert len(SCRIPTS) > 20
    problems = [f"{path.relative_to(ROOT)}: {problem}" for path in SCRIPTS
                for module, name in library_imports(path)
                if (problem := missing(module, name))]
    assert not problems, "\n".join(problems)


def test_the_check_sees_a_stale_import(tmp_path):
    stale = tmp_path / "old.py"
    stale.write_text("def f():\n    from reasoningrec.scorers import load_scorer\n"  # nested
                     "from reasoningrec.scoring.registry import no_such_name\n")
    problems = sorted(missing(m, n) for m, n in library_imports(stale))
    assert problems[0] == "reasoningrec.scorers: No module named 'reasoningrec.scorers'"
    assert problems[1] == "reasoningrec.scoring.registry has no no_such_name"
