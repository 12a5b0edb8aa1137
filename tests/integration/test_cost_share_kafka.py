"""A co-owned group's period split over the real broker: the settlement worker books CostShareSettled from
mobility.cost_shares as one cost_share entry, once however often it is sent, and anchors it like any payment."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from kafka import KafkaProducer

from services.settlement.read_model import open_read_model
from shared.contracts.base import Envelope
from shared.contracts.codec import encode
from shared.contracts.mobility import COST_SHARES, CostShareSettled, MemberCostShare

from .conftest import wait_until
from .test_energy_pipeline import read_records

pytestmark = pytest.mark.integration


def split(group: str, period: str) -> CostShareSettled:
    members = (MemberCostShare(member="aoki", use_min=7320, distance_m=421_600, wh=53_600, renewable_wh=49_500,
                               instalment_sen=5_353_505, insurance_sen=531_485, energy_sen=81_857,
                               fleet_energy_sen=96_131, credit_sen=1_924_080),
               MemberCostShare(member="baba", use_min=1200, distance_m=111_600, wh=14_300, renewable_wh=12_300,
                               instalment_sen=877_624, insurance_sen=87_129, energy_sen=22_809,
                               fleet_energy_sen=48_066, credit_sen=962_040))
    return CostShareSettled(
        group=group, period=period, period_end=datetime(2026, 11, 30, 15, 0, tzinfo=UTC),
        instalment_sen=sum(m.instalment_sen for m in members), insurance_sen=sum(m.insurance_sen for m in members),
        energy_sen=sum(m.energy_sen for m in members), fleet_energy_sen=sum(m.fleet_energy_sen for m in members),
        credit_sen=sum(m.credit_sen for m in members), members=members)


def test_a_split_sent_twice_is_one_entry_on_the_ledger(stack, kafka_bootstrap) -> None:
    group = f"coop-{uuid.uuid4().hex[:8]}"
    first, later = split(group, "2026-11"), split(group, "2026-12")
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    for payload in (first, first, later):   # the same split published twice (a retried send), then the next one
        envelope = Envelope.wrap(payload, "test")
        producer.send(COST_SHARES.name, key=payload.key().encode(), value=encode(envelope)).get(10)
    producer.close()

    def booked(ref: str):
        def check():
            ledger = open_read_model(stack.database_url)
            try:
                return ledger.entry("cost_share", ref)
            finally:
                ledger.close()
        return check

    # One key, one partition: once the later split is booked, both copies of the first were handled.
    wait_until(booked(f"{group}:2026-12"), 60, "the later split on the ledger")
    entry = booked(f"{group}:2026-11")()
    assert entry is not None and entry.body["fact"]["credit_sen"] == first.credit_sen
    ledger = open_read_model(stack.database_url)
    try:
        assert sum(1 for e in ledger.entries() if e.kind == "cost_share" and e.ref == f"{group}:2026-11") == 1
        payments = [p for p in ledger.statement("baba").payments if p["ref"] == f"{group}:2026-11"]
        assert [p["net_yen"] for p in payments] == ["-735.88"]   # charges 10,356.28 less credit 9,620.40
        assert ledger.verify().ok
    finally:
        ledger.close()

    def proof():
        ledger = open_read_model(stack.database_url)
        try:
            return ledger.inclusion_proof("cost_share", f"{group}:2026-11")
        finally:
            ledger.close()

    assert wait_until(proof, 60, "the split under its slot's anchor").anchor is not None
    assert not [r for r in read_records(kafka_bootstrap, f"{COST_SHARES.name}.dlq") if group.encode() in r.value]
