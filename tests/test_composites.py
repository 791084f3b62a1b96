"""Rule composites, the rule choice and pooling rules (symdtd.network.composites,
rule_choice, rule_fit, pooling).

Expected rules come from the table in docs/maths.md ("Networks", "Inputs of
mixed domains"): zᴮ at a neuron fed by box inputs, w² by real inputs only,
the per-input rule by both, z⁺ by ≥ 0 inputs only, z for sum-pooling,
winner-take-all for max-pooling. Expected relevance is computed by hand in
the comments.
"""
import json
import re

import numpy as np
import pytest
import sympy as sp

from symdtd import Box, Network, Positive, Real, compile, examples, propagate, verify_network
from symdtd.core.rules import get_rule
from symdtd.network.composites import Above, Chain, Composite, GammaAbove, PaperDefault, WithParameters
from symdtd.network.overrides import ByKind, ByLayer, ByName, Everywhere
from symdtd.network.pooling import PROPORTIONAL, WINNER_TAKE_ALL, Proportional, WinnerTakeAll
from symdtd.network.rule_choice import as_composite, rule_for
from symdtd.proof.network import explain_command, root_checks
from symdtd.real.evaluate import compiled, dtd

R = sp.Rational
NEURONS = {"figure3": ("h1", "h2", "h3", "y"), "xor": ("h1", "h2", "y"),
           "skip_dag": ("h1", "h2", "h3", "y")}


def names(net, composite=None):
    return [rule_for(net, n, composite).name for n in NEURONS[net.name]]


def example(name):
    net = examples.get(name)
    net.name = name
    return net


# ------------------------------------------------------------ choices by hand
# figure3: x1..x3 in ℝ₊ -> h1..h3 z⁺; y is fed by ReLUs -> z⁺.
# xor: x1, x2 in [0, 1] -> h1, h2 zᴮ; y fed by ReLUs -> z⁺.
# skip_dag: h1 (x1, x2 boxes, x3 ℝ₊) and h2 (x2 box, x3 ℝ₊) zᴮ; h3 (ReLUs) z⁺;
# y (h3, h1 and the box x1) zᴮ.
PAPER = {"figure3": ["z+", "z+", "z+", "z+"], "xor": ["zB", "zB", "z+"],
         "skip_dag": ["zB", "zB", "z+", "zB"]}


@pytest.mark.parametrize("name", sorted(PAPER))
def test_paper_default_follows_the_table(name):
    net = example(name)
    assert names(net) == PAPER[name]
    assert names(net, PaperDefault()) == PAPER[name]
    assert [net.rule_for(n).name for n in NEURONS[name]] == PAPER[name]


@pytest.mark.parametrize("name, expected", [
    ("figure3", ["gamma", "gamma", "gamma", "gamma"]),   # every z⁺ becomes γ
    ("xor", ["zB", "zB", "gamma"]),                      # the box layer keeps zᴮ
    ("skip_dag", ["zB", "zB", "gamma", "zB"])])          # y sees a box input: zᴮ stays
def test_gamma_above_replaces_z_plus_only(name, expected):
    net = example(name)
    composite = GammaAbove("1/2")
    assert names(net, composite) == expected
    gammas = {rule_for(net, n, composite).parameters.get("gamma") for n in NEURONS[name]
              if rule_for(net, n, composite).name == "gamma"}
    assert gammas == {R(1, 2)}
    assert names(net, Above("z")) == [r.replace("gamma", "z") for r in expected]


@pytest.mark.parametrize("name", sorted(PAPER))
def test_everywhere_applies_where_the_rule_fits(name):
    net = example(name)
    # every input of these networks is ≥ 0 (ℝ₊, [0, 1] or a ReLU): z, z⁺, zᴮ and w² all fit
    for rule in ("z", "z+", "zB", "w2"):
        assert names(net, Everywhere(rule)) == [rule] * len(NEURONS[name])


def test_everywhere_keeps_the_default_where_the_rule_does_not_fit():
    # inputs in [-1, 1]: z⁺ assumes ℝⁿ₊, so h keeps zᴮ; y (fed by a ReLU) takes z⁺
    net = Network.from_dense([[[1], [-1]], [[1]]], input_domain=Box(-1, 1))
    assert [rule_for(net, n, Everywhere("z+")).name for n in ("h1_1", "y1")] == ["zB", "z+"]
    # a pooling rule only at pooling neurons
    pools = pool_net()
    assert rule_for(pools, "m", Everywhere("proportional")) is PROPORTIONAL
    assert rule_for(pools, "y", Everywhere("proportional")).name == "z+"


def test_real_inputs_get_w2_and_mixed_inputs_the_per_input_rule():
    net = Network()
    net.add_input("r", Real())
    net.add_input("p", Positive())
    net.add_neuron("a", {"r": 1}, bias=0)            # real only: w²
    net.add_neuron("b", {"r": 1, "p": 1}, bias=0)    # real and ≥ 0: per-input rule
    net.add_neuron("c", {"a": 1, "b": -1}, bias=0)   # ReLUs: z⁺
    assert [rule_for(net, n).name for n in "abc"] == ["w2", "mixed", "z+"]


def test_overrides_by_name_layer_and_kind_on_top_of_the_default():
    net = example("skip_dag")
    assert names(net, ByName({"h3": "z", "y": "w2"})) == ["zB", "zB", "z", "w2"]
    assert names(net, ByLayer({1: "w2"})) == ["w2", "w2", "z+", "zB"]
    assert names(net, ByKind({"linear": "w2"})) == ["zB", "zB", "z+", "w2"]
    # composed: the left one is asked first, the rest falls back to the right one
    composite = ByName({"h1": "z"}) | ByLayer({1: "w2"}) | GammaAbove()
    assert isinstance(composite, Chain) and len(composite.composites) == 3
    assert names(net, composite) == ["z", "w2", "gamma", "zB"]
    # Above and WithParameters without a base decide only their own neurons
    assert names(net, GammaAbove() | ByLayer({1: "w2", 2: "z", 3: "z"})) == ["w2", "w2", "gamma", "z"]
    assert names(net, WithParameters({"gamma": 1}) | ByLayer({2: "gamma"})) == ["zB", "zB", "gamma", "zB"]
    assert rule_for(net, "h3", WithParameters({"gamma": 1}) | ByLayer({2: "gamma"})).parameters == \
        {"gamma": 1}


def test_a_neurons_own_rule_overrides_every_composite():
    net = example("xor")
    net.set_rule("y", "w2")
    assert rule_for(net, "y", GammaAbove()).name == "w2"
    assert rule_for(net, "y", ByName({"y": "z"})).name == "w2"


def test_rule_for_always_returns_a_rule_object():
    net = pool_net()
    assert rule_for(net, "m") is WINNER_TAKE_ALL and isinstance(WINNER_TAKE_ALL, WinnerTakeAll)
    assert rule_for(net, "m", maxpool="proportional") is PROPORTIONAL
    assert rule_for(net, "m", PaperDefault("proportional")) is PROPORTIONAL
    assert isinstance(PROPORTIONAL, Proportional)
    assert rule_for(net, "y") is get_rule("z+")


# ------------------------------------------------------------- γ on the rule
def two_neurons():
    """h = max(0, a − b), y = 2 h with a, b ∈ ℝ₊."""
    net = Network()
    net.add_input("a", Positive())
    net.add_input("b", Positive())
    net.add_neuron("h", {"a": 1, "b": -1}, bias=0)
    net.add_neuron("y", {"h": 2}, kind="linear")
    return net


def test_gamma_on_the_rule_instance_is_read_by_every_path():
    # at a = 2, b = 1: h = 1, y = 2; y (one input) sends all 2 to h.
    # γ = 1/2 at h: q_a = 2·1·(1 + 1/2) = 3, q_b = 1·(−1) = −1, Σ q = 2
    # -> R_a = 3/2·2 = 3, R_b = −1/2·2 = −1.
    net, point = two_neurons(), {"a": 2, "b": 1}
    composite = GammaAbove("1/2")
    exact = propagate(net, point, arithmetic="exact", composite=composite)
    assert exact.input_relevance == {"a": 3, "b": -1}
    assert exact.rules == {"y": "gamma", "h": "gamma"}
    floats = propagate(net, point, arithmetic="float", composite=composite)
    assert floats.input_relevance == pytest.approx({"a": 3.0, "b": -1.0})
    X = np.array([[2.0, 1.0]])
    assert compile(net, composite=composite).explain(X).relevance.tolist() == [[3.0, -1.0]]
    assert dtd(net, X, 0, composite=composite).tolist() == [[3.0, -1.0]]
    # the same rule instance given by name, and compile(parameters=) as a composite
    rule = get_rule("gamma").with_parameters(gamma=R(1, 2))
    assert propagate(net, point, arithmetic="exact",
                     composite=ByName({"h": rule, "y": rule})).input_relevance == {"a": 3, "b": -1}
    via_parameters = compile(net, composite=Everywhere("gamma"), parameters={"gamma": 0.5})
    assert via_parameters.explain(X).relevance.tolist() == [[3.0, -1.0]]
    assert dtd(net, X, 0, rule="gamma", parameters={"gamma": 0.5}).tolist() == [[3.0, -1.0]]
    # the registry's γ = 1/4: q_a = 2·5/4 = 5/2, Σ q = 3/2 -> R_a = 10/3, R_b = −4/3
    default = propagate(net, point, arithmetic="exact", composite=GammaAbove())
    assert default.input_relevance == {"a": R(10, 3), "b": R(-4, 3)}
    assert np.allclose(compile(net, composite=GammaAbove()).explain(X).relevance,
                       [[10 / 3, -4 / 3]])


def test_with_parameters_reaches_the_neurons_own_rules():
    net, point = two_neurons(), {"a": 2, "b": 1}
    net.set_rule("h", "gamma")
    e = propagate(net, point, arithmetic="exact", composite=WithParameters({"gamma": R(1, 2)}))
    assert e.input_relevance == {"a": 3, "b": -1}


def test_with_parameters_keeps_instances_and_shares_the_derivation():
    gamma = get_rule("gamma")
    half = gamma.with_parameters(gamma=R(1, 2))
    assert half is gamma.with_parameters(gamma=R(1, 2)) and half.template is gamma
    assert gamma.with_parameters(gamma=R(1, 4)) is gamma
    with pytest.raises(ValueError, match="rule 'z\\+' takes no parameter 'gamma'"):
        get_rule("z+").with_parameters(gamma=1)
    with pytest.raises(ValueError, match="gamma must be a finite number ≥ 0"):
        gamma.with_parameters(gamma=-1)


# ------------------------------------------------------------------- pooling
def pool_net():
    """m = max(a, b), y = m (linear) with a, b ∈ ℝ₊."""
    net = Network()
    net.add_input("a", Positive())
    net.add_input("b", Positive())
    net.add_max_pool("m", ["a", "b"])
    net.add_neuron("y", {"m": 1}, kind="linear")
    return net


@pytest.mark.parametrize("maxpool, point, expected", [
    # a = 1, b = 3: y = 3. Winner: b takes all 3. Proportional: a 1/4·3, b 3/4·3.
    ("winner", {"a": 1, "b": 3}, {"a": 0, "b": 3}),
    ("proportional", {"a": 1, "b": 3}, {"a": R(3, 4), "b": R(9, 4)}),
    # a tie: the first input wins; proportional halves
    ("winner", {"a": 2, "b": 2}, {"a": 2, "b": 0}),
    ("proportional", {"a": 2, "b": 2}, {"a": 1, "b": 1}),
])
def test_winner_and_proportional_pooling_by_hand(maxpool, point, expected):
    net = pool_net()
    for composite in (PaperDefault(maxpool), ByKind({"maxpool": maxpool})):
        e = propagate(net, point, arithmetic="exact", composite=composite)
        assert e.input_relevance == expected and e.rules["m"] == maxpool
        f = propagate(net, point, arithmetic="float", composite=composite)
        assert f.input_relevance == pytest.approx({k: float(v) for k, v in expected.items()})
        X = np.array([[float(point["a"]), float(point["b"])]])
        model = compile(net, composite=composite)
        assert model.explain(X).relevance.tolist() == [[float(expected["a"]), float(expected["b"])]]
        assert model.rules["m"] == maxpool
        s = propagate(net, at=point, composite=composite)
        symbols = {net.graph.nodes[k]["symbol"]: v for k, v in point.items()}
        assert {k: v.subs(symbols) for k, v in s.input_relevance.items()} == expected
    assert propagate(net, point, arithmetic="exact", maxpool=maxpool).input_relevance == expected


def test_pooling_rules_own_their_shares():
    assert WINNER_TAKE_ALL.shares([1, 3, 3]) == [0, 1, 0]
    assert PROPORTIONAL.shares([1, 3, 4]) == [R(1, 8), R(3, 8), R(1, 2)]
    assert PROPORTIONAL.shares([0, 0]) == [0, 0]
    a, b = sp.symbols("a b", nonnegative=True)
    first, second = WINNER_TAKE_ALL.symbolic_shares([a, b])
    assert first.subs({a: 2, b: 2}) == 1 and second.subs({a: 2, b: 2}) == 0
    assert first.subs({a: 1, b: 2}) == 0 and second.subs({a: 1, b: 2}) == 1


# ------------------------------------------------------------- entry points
def test_composite_is_accepted_by_every_entry_point():
    # xor at (3/4, 1/2): h1 = 5/4, h2 = 1/4, y = 3/4. With γ = 1 at y:
    # q_h1 = 5/4·2 = 5/2, q_h2 = 1/4·(−2) = −1/2, Σ q = 2 -> R_h1 = 15/16, R_h2 = −3/16;
    # z⁺ at y would give R_h1 = 3/4, R_h2 = 0.
    net, point = examples.xor(), {"x1": R(3, 4), "x2": R(1, 2)}
    composite = GammaAbove(1)
    e = propagate(net, point, arithmetic="exact", composite=composite)
    assert (e.relevance["h1"], e.relevance["h2"]) == (R(15, 16), R(-3, 16))
    report = verify_network(net, point, composite=composite)
    assert report.explanation.rules["y"] == "gamma" and report.status == "proved"
    assert report.explanation.relevance["h2"] == R(-3, 16)
    assert root_checks(net, point, composite=composite) == {}
    # w² at both hidden neurons (weights 1, 1) halves their 3/4: 3/8 each (zᴮ: 9/20, 3/10)
    halves = ByName({"h1": "w2", "h2": "w2"}) | composite
    text = explain_command(net, point, composite=halves)
    assert "x1     3/4    3/8" in text and "conservation: proved" in text
    assert "x1     3/4    9/20" in explain_command(net, point)
    X = np.array([[0.75, 0.5]])
    assert np.allclose(dtd(net, X, 0), [[0.45, 0.3]])
    assert np.allclose(dtd(net, X, 0, composite=halves), [[0.375, 0.375]])
    batch = compile(net, composite=composite).explain(X, return_neurons=True)
    assert np.allclose(batch.node("h2"), [-3 / 16]) and np.allclose(batch.node("h1"), [15 / 16])
    batch = compiled(net, composite=composite).explain(X, return_neurons=True)
    assert np.allclose(batch.node("h2"), [-3 / 16])
    assert compiled(net, composite=composite).rules["y"] == "gamma"
    assert compiled(net, composite=composite) is compiled(net, composite=GammaAbove(1))
    assert compile(net, composite=composite).rules["y"] == "gamma"
    assert net.rule_for("y", composite).name == "gamma"


@pytest.mark.filterwarnings("ignore::symdtd.propagation.arithmetic.NegativeOutputWarning")
def test_evaluate_models_takes_composites():
    from symdtd.real.comparison import dtd_composites, evaluate_models

    assert dtd_composites()["DTD zB+gamma (0.25)"] == GammaAbove(0.25)
    ev = evaluate_models(["mlp"], ["random"], baselines=["zero"], n=4, steps=2,
                         composites={"DTD gamma 1": GammaAbove(1)})
    assert ev.methods == ("random", "DTD gamma 1")
    assert ev.relevance["mlp", "DTD gamma 1"].shape == (4, 64)


def test_the_maxpool_shortcut_goes_on_top_of_the_composite():
    composite = as_composite(GammaAbove(), "proportional")
    assert rule_for(pool_net(), "m", composite) is PROPORTIONAL
    assert rule_for(two_neurons(), "h", composite).name == "gamma"


# --------------------------------------------------------------- bad input
def test_an_unknown_rule_name_names_the_neuron():
    with pytest.raises(ValueError, match=re.escape("ByName: neuron 'h1': unknown rule 'z++'")):
        ByName({"h1": "z++"})
    with pytest.raises(ValueError, match="ByName: 'ghost' is not in the network"):
        propagate(examples.xor(), {"x1": 1, "x2": 0}, arithmetic="exact",
                  composite=ByName({"ghost": "z"}))
    with pytest.raises(ValueError, match="ByLayer: layer 5 does not exist"):
        rule_for(examples.xor(), "y", ByLayer({5: "z"}))
    with pytest.raises(ValueError, match="ByKind: 'conv' is not a neuron kind"):
        ByKind({"conv": "z"})
    with pytest.raises(TypeError, match="composite must be a Composite"):
        propagate(examples.xor(), {"x1": 1, "x2": 0}, composite="winner")


def test_a_rule_the_neuron_cannot_take_is_an_error_naming_it():
    net, point = examples.xor(), {"x1": 1, "x2": 0}
    with pytest.raises(ValueError, match="neuron 'h1' is a relu neuron; pooling rule 'winner'"):
        propagate(net, point, arithmetic="exact", composite=ByName({"h1": "winner"}))
    with pytest.raises(ValueError, match="neuron 'h1' is a relu neuron; pooling rule 'proportional'"):
        compile(net, composite=ByKind({"relu": "proportional"}))
    real = Network()
    real.add_input("r", Real())
    real.add_neuron("h", {"r": 1}, bias=0)
    with pytest.raises(ValueError, match=re.escape(
            "neuron 'h': rule 'z+' assumes inputs in ℝⁿ₊, but input 'r' lies in ℝ")):
        propagate(real, {"r": 1}, arithmetic="exact", composite=ByName({"h": "z+"}))
    with pytest.raises(ValueError, match="Above: 'winner' is a pooling rule"):
        Above("winner")


def test_a_rule_missing_its_parameter_is_an_error_on_both_paths():
    from symdtd.core.rules import Rule

    bare = Rule("bare-gamma", "γ without a value", Positive(), lambda x, w, gamma: x * (1 + gamma))
    net = two_neurons()
    with pytest.raises(ValueError, match="rule 'bare-gamma' needs parameter 'gamma'"):
        propagate(net, {"a": 2, "b": 1}, arithmetic="exact", composite=ByName({"h": bare}))
    with pytest.raises(ValueError, match="rule 'bare-gamma' needs parameter 'gamma'"):
        compile(net, composite=ByName({"h": bare}))
    # γ = 1: v = 2x, q_a = 2·2·1 = 4, q_b = 2·1·(−1) = −2, Σ q = 2, R_h = 2 -> (4, −2)
    given = bare.with_parameters(gamma=1)
    e = propagate(net, {"a": 2, "b": 1}, arithmetic="exact", composite=ByName({"h": given}))
    assert e.input_relevance == {"a": 4, "b": -2}


# ------------------------------------------------------------------- JSON
@pytest.mark.parametrize("composite", [
    PaperDefault(), PaperDefault("proportional"), GammaAbove(), GammaAbove(0.5), GammaAbove("1/3"),
    Above("z"), Above("z", ByName({"y": "w2"})), Everywhere("w2"), Everywhere("proportional"),
    ByName({"h1": "gamma", "y": get_rule("gamma").with_parameters(gamma=2)}),
    ByLayer({1: "w2", 2: "z"}), ByKind({"maxpool": "proportional"}),
    WithParameters({"gamma": R(1, 3)}, ByLayer({1: "w2"})),
    ByName({"y": "z"}) | GammaAbove(1)])
def test_composites_round_trip_through_json(composite):
    data = json.loads(json.dumps(composite.to_dict()))
    back = Composite.from_dict(data)
    assert type(back) is type(composite) and back == composite
    assert back.to_dict() == composite.to_dict()
    net = example("skip_dag")
    assert names(net, back) == names(net, composite)


def test_from_dict_rejects_unknown_composites():
    with pytest.raises(ValueError, match="a composite is a dict with 'composite' one of"):
        Composite.from_dict({"composite": "epsilon"})


def test_a_composite_of_ones_own_is_asked_per_neuron_by_compile():
    class OnlyH1(Composite):   # h1 and h2 share kind and input classes: compile must not
        def rule(self, network, node):  # reuse h1's answer for h2
            return "w2" if node == "h1" else None

    net, composite = examples.xor(), OnlyH1()
    rules = compile(net, composite=composite).rules
    assert (rules["h1"], rules["h2"], rules["y"]) == ("w2", "zB", "z+")
    assert compiled(net, composite=composite) is compiled(net, composite=composite)
    assert composite == composite and composite != OnlyH1()


def test_pooling_rule_objects_are_saved_by_name():
    from symdtd.network.netjson import network_from_dict, network_to_dict

    net = pool_net()
    net.set_rule("m", PROPORTIONAL)
    data = network_to_dict(net)
    assert next(n for n in data["neurons"] if n["name"] == "m")["rule"] == "proportional"
    assert rule_for(network_from_dict(data), "m") is PROPORTIONAL
    with pytest.raises(ValueError, match="neuron 'y' is a linear neuron; pooling rule 'winner'"):
        net.set_rule("y", WINNER_TAKE_ALL)


def test_the_maxpool_shortcut_is_kept_on_every_entry_point():
    # a = 1, b = 3 (see test_winner_and_proportional_pooling_by_hand): proportional gives 3/4, 9/4
    net, point = pool_net(), {"a": 1, "b": 3}
    assert verify_network(net, point, maxpool="proportional").explanation.input_relevance == \
        {"a": R(3, 4), "b": R(9, 4)}
    X = np.array([[1.0, 3.0]])
    assert compile(net, maxpool="proportional").explain(X).relevance.tolist() == [[0.75, 2.25]]
    assert "3/4" in explain_command(net, point, maxpool="proportional")
    with pytest.raises(ValueError, match="maxpool must be 'winner' or 'proportional'"):
        propagate(net, point, maxpool="average")
