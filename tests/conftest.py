"""Fixtures shared by several test files.

``tutorial02_net``: the small DAG with skip connections of
``tutorials/02_networks.ipynb`` (the cell under "A small DAG with a skip
connection"), a fresh copy for each test; ``test_says_what_it_does.py`` checks
that it is still the notebook's network.
"""
import pytest

from symdtd import Box, Network, Positive


@pytest.fixture
def tutorial02_net():
    """The network of tutorials/02_networks.ipynb as its cell builds it, rules not pinned; fresh per test."""
    net = Network()
    net.add_input("x1", Box(0, 1))
    net.add_input("x2", Box(0, 1))
    net.add_input("x3", Positive())
    net.add_neuron("h1", {"x1": 1, "x2": "-1/2"}, bias="-1/8")
    net.add_neuron("h2", {"x1": "1/2", "x2": 1, "x3": "-1/4"})
    net.add_neuron("h3", {"h1": 1, "h2": 1, "x3": "1/2"}, bias="-1/4")
    net.add_neuron("y", {"h3": 1, "h1": "1/2"}, kind="linear")
    return net
