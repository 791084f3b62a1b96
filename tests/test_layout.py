"""The package layout: one home per concept, no private imports, no circles, lazy top level."""
import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "symdtd"
SUBPACKAGES = ("core", "derivation", "proof", "network", "propagation", "compiler", "see", "real", "cli")


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path):
    """``(module imported, names, line)`` for every import in *path*, at any depth."""
    name = _module_name(path)
    package = name if path.stem == "__init__" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield target, [a.name for a in node.names], node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def test_every_module_lives_in_a_stage_subpackage():
    flat = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert flat == [], f"modules outside the stage subpackages: {flat}"
    assert sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()) == sorted(SUBPACKAGES)


def test_no_private_name_is_imported_from_another_module():
    problems = []
    for name, path in MODULES.items():
        for target, names, line in _imports(path):
            if target.startswith("symdtd") and target != name:
                problems += [f"{name}:{line} imports {n} from {target}" for n in names
                             if n.startswith("_") and not n.startswith("__")]
    assert not problems, "\n".join(problems)


def _dotted(node):
    """``"a.b.c"`` for the expression ``a.b.c`` (None for anything else)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _private_attribute_uses(source, module, is_package=False):
    """``(module, name, line)`` for every ``m._name`` where ``m`` is a symdtd module imported in *source*."""
    tree = ast.parse(source)
    package = module if is_package else module.rpartition(".")[0]
    bound = {}   # local name -> the symdtd module (or package) it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if node.module else []))
            for alias in node.names:
                if f"{base}.{alias.name}" in MODULES:   # "from . import evaluate as ev"
                    bound[alias.asname or alias.name] = f"{base}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("symdtd"):   # "import symdtd.x as y" / "import symdtd.x"
                    bound[alias.asname] = alias.name if alias.asname else None
                    bound.setdefault(alias.name.split(".")[0], "symdtd")
    bound = {local: target for local, target in bound.items() if local and target}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            owner = _dotted(node.value)
            if owner is None or owner.split(".")[0] not in bound:
                continue
            first, _, rest = owner.partition(".")
            target = bound[first] + (f".{rest}" if rest else "")
            if target in MODULES and target != module:
                yield target, node.attr, node.lineno


def test_no_private_name_is_used_through_an_imported_module():
    problems = [f"{name}:{line} uses {target}.{attr}"
                for name, path in MODULES.items()
                for target, attr, line in _private_attribute_uses(path.read_text(encoding="utf-8"), name,
                                                                  path.stem == "__init__")]
    assert not problems, "\n".join(problems)


def test_the_private_attribute_check_sees_module_aliases():
    source = ("from . import evaluate as ev\nimport symdtd.core.numbers as num\nimport symdtd.see.flow\n"
              "ev._patches(1)\nnum._show('x')\nsymdtd.see.flow._x\nev.dtd\nev.__doc__\n")
    found = sorted(attr for _, attr, _ in _private_attribute_uses(source, "symdtd.real.comparison"))
    assert found == ["_patches", "_show", "_x"]


def _module_graph():
    graph = nx.DiGraph()
    for name, path in MODULES.items():
        if path.stem == "__init__":
            continue   # a package's lazy export table is not an import of its modules
        for target, names, _ in _imports(path):
            if not target.startswith("symdtd"):
                continue
            # "from ..network import examples" imports the module symdtd.network.examples
            for candidate in [f"{target}.{n}" for n in names] or [target]:
                if candidate in MODULES and not MODULES[candidate].stem == "__init__":
                    graph.add_edge(name, candidate)
                    break
            else:
                if target in MODULES and MODULES[target].stem != "__init__":
                    graph.add_edge(name, target)
    return graph


def test_no_import_circles_between_modules():
    cycles = list(nx.simple_cycles(_module_graph()))
    assert not cycles, f"import circles: {cycles}"


def test_no_public_name_hides_a_module():
    import importlib

    import symdtd
    for package in ("symdtd",) + tuple(f"symdtd.{s}" for s in SUBPACKAGES):
        module = importlib.import_module(package)
        folder = Path(module.__file__).parent
        submodules = {p.stem for p in folder.glob("*.py")} | {p.name for p in folder.iterdir() if p.is_dir()}
        hidden = [n for n in module.__all__ if n in submodules and not hasattr(getattr(module, n), "__path__")
                  and getattr(module, n).__class__.__name__ != "module"]
        assert not hidden, f"{package} exports {hidden}, which hide its modules of the same name"
    assert callable(symdtd.render) and callable(symdtd.compile) and callable(symdtd.verify)


def test_import_symdtd_is_light():
    code = ("import sys, time; t = time.perf_counter(); import symdtd; t = time.perf_counter() - t; "
            "heavy = sorted(m for m in ('sympy', 'networkx', 'numpy', 'matplotlib', 'graphviz') "
            "if m in sys.modules); print(t, heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    seconds, heavy = out.split(" ", 1)
    assert heavy.strip() == "[]", f"import symdtd loads {heavy.strip()}"
    assert float(seconds) < 1.0


@pytest.mark.parametrize("package", SUBPACKAGES)
def test_each_stage_exports_existing_names(package):
    import importlib

    module = importlib.import_module(f"symdtd.{package}")
    for name in module.__all__:
        assert getattr(module, name) is not None, f"symdtd.{package}.{name}"


def test_stages_and_modules_load_as_attributes_in_a_fresh_process():
    code = ("import symdtd; print(symdtd.network.examples.figure3().graph.number_of_nodes(), "
            "symdtd.see.flow.render is symdtd.render, hasattr(symdtd, 'no_such_thing'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["7", "True", "False"]
