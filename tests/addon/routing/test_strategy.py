"""Strategies: each orders candidates as documented; adaptive follows a provider's health."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from addon.errors import ConfigError
from addon.providers.base import Provider
from addon.routing.adaptive import AdaptiveTuning
from addon.routing.breaker import BreakerBoard
from addon.routing.health import HealthBoard
from addon.routing.stats import StatsBoard
from addon.routing.strategy import Strategy, make_strategy
from addon.settings import STRATEGIES
from tests.addon.routing.routing_fakes import FakeClock, provider, request

NO_EXPLORATION = AdaptiveTuning(exploration=0.0)


@dataclass
class World:
    """Everything a strategy can look at, under test control."""

    providers: list[Provider]
    clock: FakeClock = field(default_factory=FakeClock)
    costs: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [p.name for p in self.providers]
        self.stats = StatsBoard(names, clock=self.clock)
        self.health = HealthBoard(self.providers)
        self.breakers = BreakerBoard(names, clock=self.clock)

    def strategy(
        self,
        name: str,
        *,
        rng: random.Random | None = None,
        tuning: AdaptiveTuning = NO_EXPLORATION,
    ) -> Strategy:
        return make_strategy(
            name,
            stats=self.stats,
            health=self.health,
            estimate_cost=lambda p, _r: self.costs.get(p.name, 0.0),
            rng=rng or random.Random(0),
            breakers=self.breakers,
            tuning=tuning,
        )

    def order(self, strategy: Strategy) -> list[str]:
        return [p.name for p in strategy.order(self.providers, request())]

    # --- state setters used by the table --------------------------------------------
    def latency(self, name: str, ms: float) -> None:
        self.stats.get(name).start()
        self.stats.get(name).finish(ms, True)

    def failures(self, name: str, count: int) -> None:
        for _ in range(count):
            self.stats.get(name).start()
            self.stats.get(name).finish(1.0, False)

    def busy(self, name: str, in_flight: int) -> None:
        for _ in range(in_flight):
            self.stats.get(name).start()

    def down(self, name: str) -> None:
        self.health.record_failure(name, "provider_connection", "refused")

    def open_breaker(self, name: str) -> None:
        self.breakers.get(name).record_auth_failure("fp")


Setup = Callable[[World], None]

Spec = list[tuple[str, dict[str, Any]]]
ABC: Spec = [("a", {"priority": 1}), ("b", {"priority": 2}), ("c", {"priority": 3})]
EQUAL: Spec = [("a", {}), ("b", {}), ("c", {})]


def steps(*actions: Setup) -> Setup:
    def run(world: World) -> None:
        for action in actions:
            action(world)

    return run


def nothing(world: World) -> None:
    """No state: fresh providers."""


def costs(**values: float) -> Setup:
    return lambda world: world.costs.update(values)


ORDER_TABLE: list[Any] = [
    # strategy, providers (config order), setup, expected order
    ("priority", [ABC[2], ABC[0], ABC[1]], nothing, "abc"),
    ("priority", EQUAL, nothing, "abc"),
    ("priority", ABC, lambda w: w.down("a"), "bca"),
    ("priority", ABC, lambda w: w.open_breaker("b"), "acb"),
    ("round_robin", ABC, nothing, "abc"),
    (
        "weighted",
        [("a", {"weight": 1}), ("b", {"weight": 5}), ("c", {"weight": 2})],
        nothing,
        "bca",
    ),
    ("weighted", [("a", {"weight": 0}), ("b", {"weight": 0})], nothing, "ab"),
    (
        "least_loaded",
        [("a", {"max_concurrency": 4}), ("b", {}), ("c", {"max_concurrency": 2})],
        steps(lambda w: w.busy("a", 3), lambda w: w.busy("b", 10)),
        "cba",  # 0/2 < 10/uncapped(100) < 3/4
    ),
    ("least_loaded", ABC, lambda w: w.busy("a", 1), "bca"),
    ("least_loaded", ABC, steps(lambda w: w.busy("b", 1), lambda w: w.down("c")), "abc"),
    ("fastest", ABC, steps(lambda w: w.latency("a", 900), lambda w: w.latency("b", 200)), "bac"),
    ("fastest", ABC, steps(lambda w: w.latency("c", 1500)), "abc"),  # unseen = 1000 ms prior
    ("fastest", ABC, steps(lambda w: w.latency("b", 200), lambda w: w.down("b")), "acb"),
    ("cost", ABC, costs(a=0.01, b=0.0, c=0.002), "bca"),
    ("cost", ABC, costs(a=float("inf"), b=0.5, c=0.5), "bca"),  # unknown price last
    ("cost", ABC, steps(costs(a=0.01, b=0.0, c=0.002), lambda w: w.open_breaker("b")), "cab"),
    ("adaptive", ABC, nothing, "abc"),  # equal prior latency: priority decides
    ("adaptive", EQUAL, costs(a=0.02, b=0.0, c=0.01), "bca"),  # price share 1, 0, 0.5
    (
        "adaptive",
        ABC,
        steps(*(lambda w, n=n, ms=ms: w.latency(n, ms) for n, ms in [("a", 3000), ("b", 500)])),
        "bca",  # 500 * 1.5 < 1000 * 2 < 3000
    ),
    (
        "adaptive",
        EQUAL,
        steps(
            lambda w: w.latency("a", 300),
            lambda w: w.latency("b", 700),
            lambda w: w.failures("a", 1),
        ),
        "bac",  # a: 300 * (1 + 5 * 1/3) = 800, between b 700 and c 1000
    ),
    ("adaptive", EQUAL, steps(lambda w: w.busy("a", 1)), "bca"),  # 1000 * 2 for a
    ("adaptive", ABC, steps(lambda w: w.latency("a", 10), lambda w: w.down("a")), "bca"),
    ("adaptive", ABC, steps(lambda w: w.latency("b", 10), lambda w: w.open_breaker("b")), "acb"),
]


@pytest.mark.parametrize(("name", "providers", "setup", "expected"), ORDER_TABLE)
def test_each_strategy_orders_as_documented(
    name: str, providers: Spec, setup: Setup, expected: str
) -> None:
    world = World([provider(n, **settings) for n, settings in providers])
    setup(world)
    assert "".join(world.order(world.strategy(name))) == expected


@pytest.mark.parametrize(
    ("name", "providers", "setup", "sequence"),
    [
        ("round_robin", ABC, nothing, ["abc", "bca", "cab", "abc"]),
        ("round_robin", ABC, lambda w: w.down("b"), ["acb", "cab", "acb"]),
        (
            "weighted",
            [("a", {"weight": 3}), ("b", {"weight": 1}), ("c", {"weight": 0})],
            nothing,
            ["abc", "abc", "bac", "abc", "abc", "abc", "bac", "abc"],
        ),
    ],
)
def test_stateful_strategies_rotate(
    name: str,
    providers: Spec,
    setup: Setup,
    sequence: list[str],
) -> None:
    world = World([provider(n, **settings) for n, settings in providers])
    setup(world)
    strategy = world.strategy(name)
    assert ["".join(world.order(strategy)) for _ in sequence] == sequence


def test_weighted_shares_follow_the_weights() -> None:
    world = World([provider("a", weight=5), provider("b", weight=2), provider("c", weight=1)])
    strategy = world.strategy("weighted")
    firsts = [world.order(strategy)[0] for _ in range(80)]
    assert {n: firsts.count(n) for n in "abc"} == {"a": 50, "b": 20, "c": 10}


def test_exploration_puts_another_usable_candidate_first() -> None:
    world = World([provider(n, priority=p) for n, p in [("a", 1), ("b", 2), ("c", 3)]])
    strategy = world.strategy("adaptive", tuning=AdaptiveTuning(exploration=1.0))
    firsts = {world.order(strategy)[0] for _ in range(50)}
    assert firsts == {"b", "c"}
    world.down("b")
    world.down("c")
    assert {world.order(strategy)[0] for _ in range(20)} == {"a"}


def test_every_strategy_the_options_allow_is_built_and_others_refused() -> None:
    world = World([provider("a")])
    assert [world.strategy(name).name for name in STRATEGIES] == list(STRATEGIES)
    with pytest.raises(ConfigError, match="fastest-ever"):
        world.strategy("fastest-ever")


# --- adaptive over time ------------------------------------------------------------------
Behaviour = Callable[[str], tuple[float, bool]]


def simulate(world: World, strategy: Strategy, behaviour: Behaviour, picks: int) -> list[str]:
    """One request per second; try candidates in order until one succeeds; who answered."""
    answered = []
    for _ in range(picks):
        world.clock.advance(1.0)
        for candidate in strategy.order(world.providers, request()):
            latency, ok = behaviour(candidate.name)
            world.stats.get(candidate.name).start()
            world.clock.advance(latency / 1000)
            world.stats.get(candidate.name).finish(latency, ok)
            if ok:
                answered.append(candidate.name)
                break
    return answered


def share(answered: Sequence[str], name: str) -> float:
    return answered.count(name) / len(answered)


def healthy(name: str) -> tuple[float, bool]:
    return {"a": 300.0, "b": 400.0}[name], True


def slow_a(name: str) -> tuple[float, bool]:
    return (6000.0, True) if name == "a" else healthy(name)


def failing_a(name: str) -> tuple[float, bool]:
    return (5.0, False) if name == "a" else healthy(name)


@pytest.mark.parametrize("trouble", [slow_a, failing_a], ids=["slow", "failing"])
def test_adaptive_moves_traffic_away_and_back(trouble: Behaviour) -> None:
    world = World([provider("a", priority=1), provider("b", priority=2)])
    strategy = world.strategy("adaptive", rng=random.Random(7), tuning=AdaptiveTuning())

    before = simulate(world, strategy, healthy, 300)
    during = simulate(world, strategy, trouble, 300)
    after = simulate(world, strategy, healthy, 300)

    assert share(before, "a") >= 0.85  # a is faster and preferred
    assert share(during[10:], "a") <= 0.1  # only exploration (5 %) still reaches a
    assert share(after[150:], "a") >= 0.85  # exploration noticed the recovery


def test_adaptive_exploration_share_is_small() -> None:
    world = World([provider("a", priority=1), provider("b", priority=2)])
    strategy = world.strategy("adaptive", rng=random.Random(3), tuning=AdaptiveTuning())
    answered = simulate(world, strategy, healthy, 2000)
    assert 0.02 <= share(answered, "b") <= 0.08  # epsilon = 5 %
