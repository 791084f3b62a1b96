"""The search space of rule selection: which composites :func:`symdtd.select` tries.

A :class:`SearchSpace` names the choices; :func:`candidates` expands them for
one network into :class:`Candidate` objects, each a composite (the rule of
every weighted layer, :class:`~symdtd.network.overrides.ByLayer`, over the
paper's default with a max-pooling mode) and a bias handling. A rule whose
proofs do not hold for a layer's inputs
(:func:`~symdtd.network.rule_fit.rule_misfit`: z⁺, z and γ need inputs
≥ 0, zᴮ a box) is not a candidate: it is skipped with the reason, or refused
with a ``ValueError``, as the caller chooses.

Examples
--------
>>> from symdtd import Box, Network
>>> net = Network.from_dense([[[1.0], [-1.0]], [[2.0]]], input_domain=Box(-1, 1))
>>> found, skipped = candidates(net, SearchSpace(input_rules=("zB", "z+"), rules=("z+",),
...                                              absorb_bias=(False,)))
>>> [c.label for c in found]
['zB | z+']
>>> skipped[0][0]
'z+ | z+'
"""
from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..core.files import atomic_write_text
from ..core.numbers import real_number
from ..core.rules import get_rule
from ..network.composites import Composite, PaperDefault
from ..network.kind_registry import kind_named
from ..network.overrides import ByLayer
from ..network.rule_fit import resolve_rule, rule_misfit

__all__ = ["SearchSpace", "Candidate", "candidates", "weighted_layers"]

#: the method name of a deep Taylor candidate; the other methods are baselines
DTD = "dtd"
#: the gradient × input baseline of the held-out comparison
GRADIENT_X_INPUT = "gradient x input"


@dataclass(frozen=True)
class SearchSpace:
    """The choices :func:`symdtd.select` combines.

    Parameters
    ----------
    input_rules : sequence of str
        Rules tried at the first layer (the neurons fed by the inputs).
    rules : sequence of str
        Rules tried at the layers above; ``"gamma"`` is tried once per value
        of *gammas* (at the first layer too).
    gammas : sequence of number
        The γ grid (each ≥ 0).
    absorb_bias : sequence of bool
        Bias handling: ``False`` (relevance is conserved down to the
        inputs), ``True`` (positive biases absorb their share).
    maxpool : sequence of {"winner", "proportional"}
        Max-pooling modes (tried only when the network has max-pooling neurons).
    per_layer : bool
        One choice per weighted layer above the first (the product of all),
        instead of one rule for all of them.
    """

    input_rules: Sequence[str] = ("zB", "w2", "z+")
    rules: Sequence[str] = ("z+", "z", "gamma")
    gammas: Sequence[float] = (0.1, 0.25, 1.0)
    absorb_bias: Sequence[bool] = (False, True)
    maxpool: Sequence[str] = ("winner",)
    per_layer: bool = False

    def check(self) -> None:
        """Raise ValueError for an empty choice or a value that is not one.

        Raises
        ------
        ValueError
            An empty list of choices (the space would be empty), a choice
            listed twice, an unknown rule or pooling mode, a negative γ.
        TypeError
            A bias handling that is not a bool.

        Examples
        --------
        >>> SearchSpace(rules=()).check()
        Traceback (most recent call last):
        ...
        ValueError: SearchSpace: rules is empty, so the space has no candidate
        """
        for field in ("input_rules", "rules", "absorb_bias", "maxpool"):
            if len(getattr(self, field)) == 0:
                raise ValueError(f"SearchSpace: {field} is empty, so the space has no candidate")
        for field in ("input_rules", "rules", "gammas", "absorb_bias", "maxpool"):
            values = [repr(v) for v in getattr(self, field)]
            if len(set(values)) != len(values):
                raise ValueError(f"SearchSpace: {field} lists a choice twice: {getattr(self, field)!r}")
        for rule in (*self.input_rules, *self.rules):
            resolve_rule(rule, "SearchSpace: rule")
        if "gamma" in (*self.input_rules, *self.rules) and len(self.gammas) == 0:
            raise ValueError("SearchSpace: gammas is empty but 'gamma' is among the rules")
        for g in self.gammas:
            if float(real_number(g, "SearchSpace: gamma")) < 0:
                raise ValueError(f"SearchSpace: gamma must be ≥ 0, got {g!r}")
        for flag in self.absorb_bias:
            if not isinstance(flag, bool):
                raise TypeError(f"SearchSpace: absorb_bias holds bools, got {flag!r}")
        for mode in self.maxpool:
            if mode not in ("winner", "proportional"):
                raise ValueError(f"SearchSpace: maxpool mode must be 'winner' or 'proportional', "
                                 f"got {mode!r}")

    def options(self, names: Sequence[str]) -> list:
        """The rule objects of *names*, ``"gamma"`` once per γ of the grid.

        Parameters
        ----------
        names : sequence of str
            Rule names.

        Returns
        -------
        list of Rule

        Examples
        --------
        >>> [r.parameters for r in SearchSpace(gammas=(0.5,)).options(["z+", "gamma"])]
        [{}, {'gamma': 0.5}]
        """
        out = []
        for name in names:
            if name == "gamma":
                out += [get_rule("gamma").with_parameters(gamma=real_number(g, "gamma"))
                        for g in self.gammas]
            else:
                out.append(resolve_rule(name, "SearchSpace: rule"))
        return out


def _rule_label(rule):
    return f"γ={rule.parameters['gamma']}" if rule.name == "gamma" else rule.name


@dataclass(frozen=True, eq=False)
class Candidate:
    """One point of the search space: a composite and a bias handling (or a baseline method).

    Parameters
    ----------
    label : str
        How tables name it.
    composite : Composite or None
        The rules (None for a baseline method such as gradient × input).
    absorb_bias : bool
        Whether positive biases absorb relevance (``explain(absorb_bias=...)``).
    method : str
        ``"dtd"``, or ``"gradient x input"`` for the gradient baseline.
    """

    label: str
    composite: Composite | None
    absorb_bias: bool = False
    method: str = DTD

    def to_dict(self) -> dict:
        """A JSON-ready form; :meth:`from_dict` reads it back.

        Returns
        -------
        dict
            ``label``, ``composite`` (its own JSON form), ``absorb_bias`` and ``method``.
        """
        return {"label": self.label, "method": self.method, "absorb_bias": self.absorb_bias,
                "composite": None if self.composite is None else self.composite.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> Candidate:
        """The candidate a :meth:`to_dict` describes.

        Parameters
        ----------
        data : dict
            What :meth:`to_dict` returned (e.g. read from a JSON file).

        Returns
        -------
        Candidate

        Raises
        ------
        ValueError
            A dict without the keys of :meth:`to_dict`.

        Examples
        --------
        >>> from symdtd.network.composites import GammaAbove
        >>> c = Candidate("g", GammaAbove(0.5), absorb_bias=True)
        >>> Candidate.from_dict(c.to_dict()) == c
        True
        """
        if not isinstance(data, dict) or not {"label", "composite", "absorb_bias"} <= set(data):
            raise ValueError(f"a candidate is a dict with label, composite and absorb_bias, got {data!r}")
        composite = None if data["composite"] is None else Composite.from_dict(data["composite"])
        return cls(data["label"], composite, bool(data["absorb_bias"]), data.get("method", DTD))

    def save(self, path: str | Path) -> Path:
        """Write the candidate as JSON (atomically).

        Parameters
        ----------
        path : str or pathlib.Path
            The file to write.

        Returns
        -------
        pathlib.Path
            The file written.
        """
        return atomic_write_text(path, json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> Candidate:
        """Read a candidate :meth:`save` wrote.

        Parameters
        ----------
        path : str or pathlib.Path
            A JSON file.

        Returns
        -------
        Candidate
        """
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def __reduce__(self):
        # through the JSON form: composites hold weak caches, which do not pickle
        return (type(self).from_dict, (self.to_dict(),))

    def __eq__(self, other):
        return isinstance(other, Candidate) and self.to_dict() == other.to_dict()

    def __hash__(self):
        return hash(json.dumps(self.to_dict(), sort_keys=True))


def weighted_layers(network: object) -> list[tuple[int, list[str]]]:
    """The generations of *network* whose neurons all carry weights: ``(number, names)``.

    Parameters
    ----------
    network : Network
        The network searched.

    Returns
    -------
    list of (int, list of str)
        Generation number (1 is fed by the inputs) and its neurons; pooling
        generations are left to the paper's default.

    Examples
    --------
    >>> from symdtd import Network
    >>> [k for k, _ in weighted_layers(Network.from_dense([[[1.0]], [[1.0]]]))]
    [1, 2]
    """
    out = []
    for k, layer in enumerate(network.layers()):
        if k and all(kind_named(network.graph.nodes[n]["kind"]).weighted for n in layer):
            out.append((k, layer))
    return out


def _misfit(network, layer, rule, cache):
    key = (layer[0], rule.name)
    if key not in cache:  # γ, z and z⁺ share a domain; the parameters change nothing
        cache[key] = next((why for n in layer if (why := rule_misfit(network, n, rule))), None)
    return cache[key]


def candidates(network: object, space: SearchSpace, *, on_misfit: str = "skip",
               limit: int = 2000) -> tuple[list[Candidate], list[tuple[str, str]]]:
    """Expand *space* for *network*: the candidates, and those skipped with the reason.

    Parameters
    ----------
    network : Network
        The network whose layers the rules are chosen for.
    space : SearchSpace
        The choices.
    on_misfit : {"skip", "refuse"}
        What a rule that cannot apply to a layer does: its candidates are
        skipped (and listed), or a ``ValueError`` names the layer and rule.
    limit : int
        Most candidates allowed (a per-layer product grows fast).

    Returns
    -------
    found : list of Candidate
    skipped : list of (str, str)
        Label and reason of each candidate left out.

    Raises
    ------
    ValueError
        An empty space or one with no candidate left, a misfit with
        ``on_misfit="refuse"``, more than *limit* candidates, a network without
        a weighted layer.
    """
    if on_misfit not in ("skip", "refuse"):
        raise ValueError(f"on_misfit must be 'skip' or 'refuse', got {on_misfit!r}")
    space.check()
    layers = weighted_layers(network)
    if not layers:
        raise ValueError("the network has no weighted layer to choose rules for")
    first = layers[0] if layers[0][0] == 1 else None
    above = [entry for entry in layers if entry is not first]
    groups = ([[first]] if first else []) + ([[e] for e in above] if space.per_layer else
                                             [above] if above else [])
    choices = [space.options(space.input_rules if g[0] is first else space.rules) for g in groups]
    has_maxpool = any(kind_named(d["kind"]).selects for _, d in network.graph.nodes(data=True))
    modes = tuple(space.maxpool) if has_maxpool else (None,)
    total = len(modes) * len(space.absorb_bias)
    for c in choices:
        total *= len(c)
    if total > limit:
        raise ValueError(f"the space has {total} candidates, more than limit={limit}; "
                         "narrow it (per_layer=False, fewer rules or γ values)")
    found, skipped, cache = [], [], {}
    for picks in itertools.product(*choices):
        parts = [_rule_label(r) if not space.per_layer else
                 f"L{g[0][0]} {_rule_label(r)}" for g, r in zip(groups, picks)]
        why = next((w for g, r in zip(groups, picks) for (_, layer) in g
                    if (w := _misfit(network, layer, r, cache))), None)
        mapping = {k: r for g, r in zip(groups, picks) for (k, _) in g}
        for mode in modes:
            for absorb in space.absorb_bias:
                label = " | ".join(parts + ([f"maxpool {mode}"] if mode else [])
                                   + (["b+ absorbed"] if absorb else []))
                if why:
                    if on_misfit == "refuse":
                        raise ValueError(f"candidate {label!r}: {why} (pass on_misfit='skip' to skip it)")
                    skipped.append((label, why))
                    continue
                composite = ByLayer(mapping) | PaperDefault(maxpool=mode)
                found.append(Candidate(label, composite, absorb))
    if not found:
        raise ValueError(f"no candidate of the space fits the network ({len(skipped)} skipped: "
                         f"{skipped[0][1]})")
    return found, skipped
