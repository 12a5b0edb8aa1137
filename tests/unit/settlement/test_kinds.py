"""Entry kinds are a registry: a new kind is one module, and the generic checks hold it to the chain's rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest

from services.settlement.domain.chain import ChainHead, Draft, Entry, append
from services.settlement.domain.kinds.base import ChainState, EntryKind, ProjectedRow
from services.settlement.domain.kinds.registry import KINDS, KindRegistry
from services.settlement.domain.postings import JPY, PLATFORM, participant_account
from services.settlement.domain.signing import Signer
from services.settlement.domain.statement import build_statement
from services.settlement.domain.verify import verify

SIGNER = Signer.from_bytes(bytes(range(32)))
SLOT = "2026-11-27T00:00:00+00:00"


class RewardKind(EntryKind):
    """A toy payment kind, written as a new kind module would be: the platform pays a participant."""

    name: ClassVar[str] = "test_reward"
    posting_kinds: ClassVar[tuple[str, ...]] = ("reward",)

    def check(self, entry: Entry, body: dict[str, Any], state: ChainState) -> str | None:
        expected = reward_postings(body["participant"], body["sen"])
        return None if body["postings"] == expected else "postings do not follow from the reward"

    def rows(self, entry: Entry) -> list[ProjectedRow]:
        return []


def reward_postings(participant: str, sen: int) -> list[list[Any]]:
    return [[PLATFORM, JPY, -sen, "reward"], [participant_account(participant), JPY, sen, "reward"]]


def reward_draft(ref: str, participant: str, sen: int, postings: list[list[Any]] | None = None) -> Draft:
    return Draft("test_reward", ref, SLOT, {"participant": participant, "sen": sen,
                                             "postings": postings or reward_postings(participant, sen)})


REGISTRY = KindRegistry([*KINDS.values(), RewardKind()])


def chain(drafts: list[Draft]) -> list[Entry]:
    entries, _ = append(ChainHead("main"), drafts, SIGNER)
    return entries


def test_builtin_kinds_are_registered() -> None:
    """The registry lists every kind the ledger writes; anchors are the only kind not under anchors."""
    payments = {"reward", "campaign_fund", "fare", "charging_bill", "delivery_fee", "cost_share"}
    assert set(KINDS) == {"trade", "retirement", "anchor", *payments}
    assert set(KINDS.anchored()) == {"trade", "retirement", *payments}


@pytest.mark.parametrize("name", ["", "a" * 17])
def test_registry_refuses_bad_names(name: str) -> None:
    """A kind's name must fit the entries table's column."""
    kind = type("Bad", (EntryKind,), {"name": name})()
    with pytest.raises(ValueError, match=r"1\.\.16 characters"):
        KindRegistry([kind])


def test_registry_refuses_a_kind_twice() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        KindRegistry([RewardKind(), RewardKind()])


def test_a_new_kind_verifies_once_registered() -> None:
    """Entries of a new kind verify with a registry that holds it, and are refused as unknown without it."""
    entries = chain([reward_draft("r1", "home-1", 500), reward_draft("r2", "home-2", 300)])
    assert verify(entries, SIGNER.public_key, kinds=REGISTRY).ok
    report = verify(entries, SIGNER.public_key)
    assert report.first_bad.seq == 1 and "unknown entry kind 'test_reward'" in report.first_bad.reason


def test_generic_checks_apply_to_every_kind() -> None:
    """A repeated (kind, ref) and postings that do not balance are refused whatever the kind says."""
    twice = chain([reward_draft("r1", "home-1", 500), reward_draft("r1", "home-1", 500)])
    assert "recorded twice" in verify(twice, SIGNER.public_key, kinds=REGISTRY).first_bad.reason
    lopsided = [[PLATFORM, JPY, -400, "reward"], [participant_account("home-1"), JPY, 500, "reward"]]

    class Lenient(RewardKind):
        def check(self, entry: Entry, body: dict[str, Any], state: ChainState) -> str | None:
            return None

    unbalanced = chain([reward_draft("r1", "home-1", 500, postings=lopsided)])
    report = verify(unbalanced, SIGNER.public_key, kinds=KindRegistry([*KINDS.values(), Lenient()]))
    assert "do not balance" in report.first_bad.reason
    assert not verify(unbalanced, SIGNER.public_key, kinds=REGISTRY).ok


def test_a_new_kinds_payments_reach_the_statement() -> None:
    """Entries of other kinds that move the participant's account show as payments and count in the net."""
    entries = chain([reward_draft("r1", "home-1", 500), reward_draft("r2", "home-2", 300)])
    for e in entries:
        e.__dict__.pop("body", None)
    statement = build_statement("home-1", None, datetime(2027, 1, 1, tzinfo=UTC), [], [], entries)
    assert [(p["kind"], p["ref"], p["net_yen"]) for p in statement.payments] == [("test_reward", "r1", "5.00")]
    assert statement.totals["net_yen"] == "5.00"
