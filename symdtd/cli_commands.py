"""Subcommands of ``symdtd`` that expose networks, rendering and evaluation.

Each entry of :data:`REGISTRY` adds one subcommand to the parser; the work
is done by the module the feature lives in.
"""
from __future__ import annotations

REGISTRY = []
