"""Offers and the renewable target in the app, in headless Chromium with every host but 127.0.0.1
unreachable: an offer made by a campaign appears without a reload, the user accepts it and sees the code to
show, the shop's redemption turns it into "reward received", and the reward is a payment line on the statement
with its proof; the renewable target shows what covers it (A on-site, B community, C certificates).

The gateway runs on uvicorn over the in-process bus with the settlement service and a SQLite ledger; offers,
redemptions and the campaign's funding are published on the bus as the campaign service publishes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.gateway.accounts.passwords import Passwords, cheap_hasher
from services.gateway.accounts.service import Accounts
from services.gateway.accounts.store import open_store
from services.gateway.app import create_app
from services.gateway.offers import BusOffers
from services.gateway.publisher import BusPublisher
from services.settlement.anchor_file import AnchorFile
from services.settlement.service import build_service as settlement
from services.settlement.store import open_ledger
from services.settlement.views import LedgerReader
from shared.bus.inprocess import InProcessBus
from shared.contracts import incentives
from shared.contracts.energy import TradeMatched
from shared.settings import Settings

from .test_app_accounts import PASSWORD, _csp_violations, _sign_in
from .test_web_pages import SCREENSHOTS, _phone, _watch, serve

pytestmark = pytest.mark.browser
CAMPAIGN = "gate-peak-demo"
OPERATOR = "ebina-station-area"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[tuple[str, InProcessBus, Accounts, object, AnchorFile]]:
    folder = tmp_path_factory.mktemp("app-offers")
    settings = Settings(ledger_anchors_file=str(folder / "anchors.jsonl"))
    ledger = open_ledger(f"sqlite:///{folder / 'ledger.sqlite'}", bytes(range(32)))
    accounts = Accounts(open_store("sqlite://"), settings.token_secret, passwords=Passwords(cheap_hasher()))
    anchors = AnchorFile(folder / "anchors.jsonl")
    bus = InProcessBus([settlement(ledger, anchor_file=anchors)])
    app = create_app(settings, BusPublisher(bus), LedgerReader(ledger), accounts=accounts, offers=BusOffers(bus))
    with serve(app) as base:
        yield base, bus, accounts, ledger, anchors


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p, tmp_path_factory.mktemp("profile")


def test_an_offer_arrives_live_is_accepted_redeemed_and_paid_on_the_statement(site, browser):
    base, bus, accounts, ledger, anchors = site
    midori = accounts.sign_up("midori", PASSWORD).subject
    now = datetime.now(UTC).replace(microsecond=0)
    bus.publish(incentives.CAMPAIGNS, incentives.CampaignLaunched(
        campaign_id=CAMPAIGN, operator=OPERATOR, day=now.date(), goal_kind="cut_load", place="odakyu_gates",
        window=("07:30", "08:30"), share=0.1, daily_budget_yen=20_000, guard_yen=60_000,
        offers=(incentives.CatalogueOffer(offer_id="later20", kind="shift_later", reward_yen=120, shift_min=20),)))
    bus.run_until_idle()

    context = _phone(browser)
    page = context.new_page()
    strays, csp = _watch(page, base), _csp_violations(page)
    page.goto(f"{base}/app/")
    _sign_in(page, "midori")
    page.wait_for_selector("#offers-live[data-state='live']")
    assert page.locator("#no-offers").is_visible()

    # The campaign service makes an offer: it shows up on the open page, no reload.
    bus.publish(incentives.OFFERS, incentives.IncentiveOfferMade(
        offer_id="off-1", user=midori, offer_type="shift_later", reward_yen=120, shift_min=20, campaign=CAMPAIGN,
        catalogue_offer="later20", shop="vinawalk-cafe", code="K7QX-2PLM", made_at=now,
        expires_at=now + timedelta(minutes=30)))
    offer = page.locator("li.offer[data-offer='off-1']")
    offer.wait_for(timeout=15000)
    assert offer.get_attribute("data-state") == "offered"
    assert "20分遅く出発する" in offer.text_content() and "120" in offer.text_content()
    assert "K7QX-2PLM" not in page.content()  # the code only once accepted
    page.screenshot(path=str(SCREENSHOTS / "app_offer_ja.png"), full_page=True)

    offer.locator("button.accept").click()
    page.wait_for_selector("li.offer[data-offer='off-1'][data-state='accepted']", timeout=15000)
    assert page.locator("li.offer[data-offer='off-1'] .code code").text_content() == "K7QX-2PLM"
    answers = [e for e in bus.events(incentives.RESPONSES) if isinstance(e, incentives.IncentiveOfferAnswered)]
    assert [(a.offer_id, a.user, a.accepted, a.responder) for a in answers] == [("off-1", midori, True, "app")]

    # The shop checks the code; the campaign service pays the reward; settlement records it.
    bus.publish(incentives.REDEMPTIONS, incentives.RewardRedeemed(
        code="K7QX-2PLM", offer_id="off-1", campaign_id=CAMPAIGN, operator=OPERATOR, user=midori, reward_yen=120,
        redeemer="vinawalk-cafe", at=now))
    bus.run_until_idle()
    page.wait_for_selector("li.offer[data-offer='off-1'][data-state='redeemed']", timeout=15000)
    ledger.anchor_pending()  # what the settlement service's timer does, then it publishes the roots
    anchors.publish(ledger)
    page.reload()
    row = page.locator("#payment-rows tr[data-kind='reward']")
    row.wait_for(timeout=15000)
    assert "オファーの特典" in row.text_content() and "120.00" in row.text_content()
    page.wait_for_selector("#payment-rows tr.proof-row .badge[data-state='verified']", timeout=15000)
    page.screenshot(path=str(SCREENSHOTS / "app_offer_redeemed_ja.png"), full_page=True)

    page.click("#lang-switch")
    page.wait_for_function("() => document.querySelector(\"li.offer[data-offer='off-1']\")"
                           ".textContent.includes('reward received')")
    page.wait_for_function("() => document.querySelector('#payment-rows').textContent.includes('offer reward')")
    assert strays == [] and csp == []
    context.close()


def test_the_renewable_target_shows_on_site_community_and_what_is_left(site, browser):
    """A resident bought 1 kWh of community solar and 1 kWh of grid power: at a 60 % target the bar shows
    1.000 kWh from the community (B) and 0.200 kWh still to cover, as the ledger's route answers; at 30 % the
    target is met. The choice of share is kept for the next visit."""
    base, _, accounts, ledger, _ = site
    kenji = accounts.sign_up("kenji", PASSWORD).subject
    slot = datetime(2026, 5, 20, 3, 0, tzinfo=UTC)
    for trade_id, seller, renewable in (("t-kenji-pv", "home-pv-07", True), ("t-kenji-grid", "grid", False)):
        ledger.record_trade(TradeMatched(trade_id=trade_id, slot=slot, seller=seller, buyer=kenji, kwh=Decimal("1"),
                                         price=Decimal("18.40"), tier="B" if renewable else "grid",
                                         wheeling_fee=Decimal("10.00"), renewable=renewable, seller_site=None))
    context = _phone(browser)
    page = context.new_page()
    page.goto(f"{base}/app/")
    _sign_in(page, "kenji")
    page.wait_for_selector("#target-verdict[data-met='false']", timeout=15000)
    legend = dict(zip([li.get_attribute("data-part") for li in page.locator("#target-legend li").all()],
                      page.locator("#target-legend li").all_text_contents(), strict=True))
    assert "1.000 kWh" in legend["target_b"] and "0.000 kWh" in legend["target_a"]
    assert "0.200 kWh" in legend["target_rest"] and "0.200" in page.locator("#target-verdict").text_content()
    page.screenshot(path=str(SCREENSHOTS / "app_target_ja.png"), full_page=True)
    page.select_option("#target-share", "0.3")
    page.wait_for_selector("#target-verdict[data-met='true']", timeout=15000)
    page.reload()
    page.wait_for_selector("#target-verdict[data-met='true']", timeout=15000)
    assert page.locator("#target-share").input_value() == "0.3"
    context.close()
