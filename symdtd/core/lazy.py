"""Lazy exports for a package's ``__init__``: a name's module loads on first use.

A package lists its public names and the module defining each; reading
``package.name`` imports that module then. ``import symdtd`` so costs almost
nothing, and a subpackage's ``__init__`` never imports its own modules, which
keeps import order free of circles between subpackages.

Examples
--------
>>> from symdtd.core.lazy import lazy_exports
>>> getattr_, dir_ = lazy_exports("symdtd.core", {"Box": "domains"})
>>> getattr_("Box").__name__
'Box'
>>> "Box" in dir_()
True
>>> getattr_("domains").__name__   # a module of the package, read as an attribute
'symdtd.core.domains'
>>> getattr_("no_such_name")
Traceback (most recent call last):
...
AttributeError: module 'symdtd.core' has no attribute 'no_such_name'

"""
from __future__ import annotations

import sys
from importlib import import_module
from importlib.util import find_spec

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: dict[str, str], modules: frozenset = frozenset()):
    """Return the ``__getattr__`` and ``__dir__`` of a package with lazy names.

    Parameters
    ----------
    package : str
        The package's dotted name (its ``__name__``).
    exports : dict of str to str
        Public name -> module (relative to ``package``) that defines it.
    modules : frozenset of str, optional
        Names in ``exports`` that are modules themselves, not attributes.

    Returns
    -------
    getattr_, dir_ : callable
        Functions to bind as the package's ``__getattr__`` and ``__dir__``.

    Raises
    ------
    AttributeError
        From ``getattr_``, for a name the package does not export.
    """
    def getattr_(name):
        module_name = exports.get(name)
        if module_name is None:
            # a subpackage or module read as an attribute (symdtd.network.graph) loads too
            if not name.startswith("_") and find_spec(f"{package}.{name}") is not None:
                return import_module(f"{package}.{name}")
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = import_module(f"{package}.{module_name}")
        value = module if name in modules else getattr(module, name)
        setattr(sys.modules[package], name, value)   # later reads skip __getattr__
        return value

    def dir_():
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return getattr_, dir_
