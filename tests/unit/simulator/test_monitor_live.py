"""Anomaly detection flags surges against a seasonal baseline; the live services speak the event contracts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np

from shared.bus.inprocess import InProcessBus
from shared.contracts.codec import decode
from shared.contracts.crowd import ANOMALIES, COUNTS, CrowdCountObserved
from shared.contracts.incentives import OFFERS, RESPONSES, IncentiveOfferMade
from simulator.live import answer_offer, build_monitor_service, build_simulator_service
from simulator.monitor import SeasonalBaseline, detect

JST = timezone(timedelta(hours=9))


def _normal_days(seed: int = 0, n: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    minutes = np.arange(1440)
    shape = 5 + 40 * np.exp(-((minutes - 480) / 45.0) ** 2) + 30 * np.exp(-((minutes - 1090) / 60.0) ** 2)
    return rng.poisson(shape, size=(n, 1440))


def test_normal_day_raises_no_alarm():
    """A fresh day drawn like the training days produces no anomaly at threshold 5."""
    base = SeasonalBaseline.fit(_normal_days())
    today = _normal_days(seed=1, n=1)[0]
    windowed = sum(np.roll(today, lag) for lag in range(base.window))
    assert detect(base, np.arange(1440), windowed, threshold=5.0) == []


def test_surge_at_night_is_flagged_with_its_minute():
    """A crowd of 60 at 02:00, when 5 is usual, is a surge at that minute."""
    base = SeasonalBaseline.fit(_normal_days())
    hits = detect(base, np.array([120]), np.array([300]))
    assert len(hits) == 1 and hits[0].kind == "surge" and hits[0].minute == 120


def test_missing_morning_peak_is_a_drop():
    """Nobody at 08:00, when the peak is usual, is a drop."""
    base = SeasonalBaseline.fit(_normal_days())
    hits = detect(base, np.array([480]), np.array([0]))
    assert hits and hits[0].kind == "drop"


def test_simulated_person_answers_offers_reproducibly():
    """The same offer gets the same answer; the probability follows the calibrated model."""
    offer = IncentiveOfferMade(offer_id="o-1", user="u-9", offer_type="other_exit", reward_yen=100, shift_min=3)
    a, b = answer_offer(offer), answer_offer(offer)
    assert a == b and a is not None and 0.3 < a.probability < 0.5


def test_live_services_publish_counts_answers_and_anomalies():
    """On the in-process bus the simulator publishes counts, answers offers, and the monitor flags a surge."""
    day = datetime(2026, 11, 27, tzinfo=JST)
    sim = build_simulator_service("ebina_weekday", agents=2000, day=day)
    baselines = {"east_deck": SeasonalBaseline.fit(np.zeros((3, 1440)))}
    bus = InProcessBus([sim, build_monitor_service(baselines)])
    for out in sim.timers[0].tick():
        bus.publish(out.topic, out.payload, producer="simulator")
    for minute in range(5):
        count = CrowdCountObserved(zone="east_deck", minute_start=day + timedelta(minutes=600 + minute),
                                   persons=40, density_p_m2=0.3, los="A", source="sensor")
        bus.publish(COUNTS, count)
    bus.publish(OFFERS, IncentiveOfferMade(offer_id="o-2", user="u-1", offer_type="shift_later",
                                                        reward_yen=100, shift_min=20))
    bus.run_until_idle()
    assert len(bus.log[COUNTS.name]) == 7 + 5
    assert len(bus.log[RESPONSES.name]) == 1
    anomalies = [decode(raw)[1] for raw in bus.log[ANOMALIES.name]]
    assert anomalies and anomalies[0].zone == "east_deck" and anomalies[0].kind == "surge"
    assert not bus.dead_letters


def test_accepted_time_shift_moves_a_person_in_the_live_counts():
    """An accepted 'leave 10 minutes later' offer at a zone removes one count now and adds it 10 minutes on."""
    day = datetime(2026, 11, 27, tzinfo=JST)
    plain = build_simulator_service("ebina_weekday", agents=2000, day=day)
    shifted = build_simulator_service("ebina_weekday", agents=2000, day=day)
    offer = IncentiveOfferMade(offer_id="o-3", user="u-7", offer_type="shift_later", reward_yen=5000,
                               shift_min=10, zone="concourse")
    for _ in range(600):  # to 10:00, when the concourse is busy
        plain.timers[0].tick()
        shifted.timers[0].tick()
    answers = list(shifted.handle(OFFERS, None, offer))
    assert answers[0].payload.accepted

    def concourse(service) -> list[int]:
        return [o.payload.persons for _ in range(11) for o in service.timers[0].tick()
                if o.topic == COUNTS and o.payload.zone == "concourse"]

    a, b = concourse(plain), concourse(shifted)
    assert b[0] == max(a[0] - 1, 0) and b[10] == a[10] + 1 and b[1:10] == a[1:10]
