"""The public API carries type hints, and every hint names a type that exists.

``typing.get_type_hints`` evaluates the hints (postponed by
``from __future__ import annotations``) in their module, so a hint naming a
type the module does not import fails here, and so does a public function
left without hints. No type checker is run.
"""
import importlib
import inspect
import typing

import pytest

# core: every public function and method of these modules; the other stages:
# their export tables' functions
CORE_MODULES = ["domains", "rules", "numbers", "limits", "errors", "files"]
STAGES = ["derivation", "proof", "network", "propagation", "compiler", "see", "real", "cli"]


def _hinted_callables():
    found = {}
    for name in CORE_MODULES:
        module = importlib.import_module(f"symdtd.core.{name}")
        for attr in module.__all__:
            obj = getattr(module, attr)
            if getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj):
                found[f"{module.__name__}.{attr}"] = obj
            elif inspect.isclass(obj):
                found.update(_methods(obj))
    for stage in STAGES:
        package = importlib.import_module(f"symdtd.{stage}")
        for attr in package.__all__:
            obj = getattr(package, attr)
            if inspect.isfunction(obj):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


def _methods(cls):
    methods = {}
    for attr, value in vars(cls).items():
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        elif isinstance(value, property):
            value = value.fget
        if inspect.isfunction(value) and (not attr.startswith("_") or attr == "__init__"):
            methods[f"{cls.__module__}.{value.__qualname__}"] = value
    return methods


HINTED = _hinted_callables()


def test_the_listed_api_is_found():
    names = set(HINTED)
    assert {"symdtd.see.flow.render", "symdtd.see.plotting.save_figure", "symdtd.real.models.load_model",
            "symdtd.cli.app.main", "symdtd.core.rules.get_rule", "symdtd.core.domains.Box.__init__",
            "symdtd.core.files.check_output", "symdtd.core.limits.raised"} <= names


@pytest.mark.parametrize("name", sorted(HINTED))
def test_public_function_has_resolvable_hints(name):
    function = inspect.unwrap(HINTED[name])
    hints = typing.get_type_hints(function)   # NameError for a hint naming a missing type
    parameters = [p for p in inspect.signature(function).parameters if p not in ("self", "cls")]
    missing = [p for p in parameters if p not in hints]
    assert not missing, f"{name}: parameters without a hint: {missing}"
    assert "return" in hints, f"{name}: no return hint"


def test_a_hint_naming_a_missing_type_fails():
    namespace = {}
    exec("from __future__ import annotations\ndef f(x: NoSuchType) -> int: ...", namespace)
    with pytest.raises(NameError):
        typing.get_type_hints(namespace["f"])
