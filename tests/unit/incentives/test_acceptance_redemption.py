"""Acceptance estimates learn from answers; an offer is redeemed once; the budget book never overcommits."""

from __future__ import annotations

import numpy as np
import pytest

from services.incentives.domain.acceptance import AcceptanceEstimates
from services.incentives.domain.budget import BudgetBook
from services.incentives.domain.campaign import Budget
from services.incentives.domain.redemption import AnswerRefused, OfferBook, RedemptionRefused


def test_posterior_moves_from_a_wrong_prior_to_the_truth() -> None:
    """A prior twice too high, 2,000 answers at 15 %: the mean ends within 10 % of 0.15."""
    est = AcceptanceEstimates.from_prior(("a",), ("o",), np.array([[0.30]]), strength=20)
    rng = np.random.default_rng(1)
    est.update(np.zeros(2000, int), np.zeros(2000, int), rng.random(2000) < 0.15)
    assert est.mean()[0, 0] == pytest.approx(0.15, rel=0.1)


def test_thompson_draws_spread_with_uncertainty() -> None:
    """Few answers: draws vary widely; many answers: they concentrate."""
    rng = np.random.default_rng(2)
    weak = AcceptanceEstimates.from_prior(("a",), ("o",), np.array([[0.2]]), strength=5)
    strong = AcceptanceEstimates.from_prior(("a",), ("o",), np.array([[0.2]]), strength=5_000)
    assert np.std([weak.sample(rng)[0, 0] for _ in range(300)]) > 5 * np.std(
        [strong.sample(rng)[0, 0] for _ in range(300)])


def test_redeemed_once_only() -> None:
    book = OfferBook.empty(b"0123456789abcdef")
    rec = book.issue("o1", "c", "u1", "early15", "commute_in", 100, sent_minute=440, valid_minutes=60)
    with pytest.raises(RedemptionRefused, match="only an accepted offer"):
        book.redeem(rec.code, "shop-1")
    book.answer("o1", True, 450)
    assert book.redeem(rec.code.lower(), "shop-1").status == "redeemed"
    with pytest.raises(RedemptionRefused, match="already redeemed by shop-1"):
        book.redeem(rec.code, "shop-2")
    with pytest.raises(RedemptionRefused, match="unknown"):
        book.redeem("AAAAAAAAAAAA", "shop-1")


def test_answers_and_expiry() -> None:
    book = OfferBook.empty(b"0123456789abcdef")
    book.issue("o1", "c", "u1", "early15", "commute_in", 100, 440, 30)
    book.issue("o2", "c", "u2", "early15", "commute_in", 100, 440, 30)
    assert book.answer("o1", False, 445)[1] is True
    assert book.answer("o1", False, 446)[1] is False  # the same answer again changes nothing
    with pytest.raises(AnswerRefused, match="already declined"):
        book.answer("o1", True, 447)
    assert [r.offer_id for r in book.expire(471)] == ["o2"]
    with pytest.raises(AnswerRefused):
        book.answer("o2", True, 472)


def test_budget_book_worst_case_counts_every_open_offer_at_face_value() -> None:
    book = BudgetBook(Budget(daily_yen=1_000, guard_yen=2_000))
    for i in range(10):
        book.issue(f"o{i}", 150, 0.2)
    assert book.expected_committed == pytest.approx(300)
    assert book.remaining_worst_case() == 500
    book.accepted("o0")
    book.redeemed("o0", 150)
    book.closed("o1")
    assert book.paid_yen == 150 and book.worst_case_committed == 150 + 8 * 150
