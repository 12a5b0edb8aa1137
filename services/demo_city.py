"""The simulated Ebina station area, live, on the in-process bus: what ``citymatch demo --serve`` runs.

The real service cores run on one :class:`InProcessBus` with a simulated clock: the market (the Ebina
community's participants), settlement (the ledger it is handed), the campaign service, the charging planner,
the live city simulator (crowd counts, forecasts, people answering offers), the city monitor (crowd
anomalies) and the shops' watch (their days' sales). Around them the city is simulated: the members'
devices place their orders half an hour before each slot, residents announce the trips they expect, one
campaign runs each simulated day, shops redeem the codes of accepted offers and report their days at
closing. App users (the demo's account) answer their own offers through the gateway; the simulated people
leave them alone.

:meth:`DemoCity.step` is one simulated minute. Every random choice draws from ``seed`` and nothing reads the
wall clock, so the same seed and day give the same orders, trades, offers, answers and redemptions for the
same number of steps.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np

from shared.bus.dispatch import derived_event_id
from shared.bus.inprocess import InProcessBus
from shared.contracts import crowd, energy, incentives, ledger, logistics
from shared.contracts.base import Envelope, Payload
from shared.contracts.charging import (
    BOOKINGS,
    PLANS,
    SESSIONS,
    ChargingSessionMetered,
    EvBooked,
    EvPlanSubmitted,
    PlannedStay,
)
from shared.contracts.codec import decode, encode
from shared.runtime import Outgoing, Service
from shared.settings import REPO_ROOT

if TYPE_CHECKING:
    from services.settlement.anchor_file import AnchorFile
    from services.settlement.ports import Ledger
    from simulator.scenario import Scenario

TOKYO = ZoneInfo("Asia/Tokyo")
COMMUNITY = REPO_ROOT / "services" / "market" / "communities" / "ebina.yaml"
SCENARIO = "ebina_weekday_event"  # a weekday with an evening concert at ViNA WALK (its crowd is an anomaly)
OPERATOR = "ebina-station-area"
CAMPAIGN_PLACE = "odakyu_gates"
CAMPAIGN_WINDOW = ("07:00", "20:00")
CAMPAIGN_DAILY_YEN = 30_000
RESIDENTS = 3000           # the simulated app users the day's trips are drawn from
TRIPS_PER_DAY = 900        # trips across the Odakyu gates announced per simulated day
TRIP_NOTICE = 75           # minutes before crossing a resident announces the trip
OFFER_VALID_MINUTES = 180  # long enough for a person to answer in the app at the demo's speed
REDEEM_SHARE = 0.8         # accepted offers whose code is shown at a shop
SHOP_REPORT_AT = 21 * 60 + 30  # the minute of the day the shops report their day
HISTORY_DAYS = 14          # shop days reported before the first simulated day (what an anomaly is judged on)
# shop, item, area around it, usual units sold a day
SHOPS = (("vinawalk-cafe", "coffee", "station", 120), ("vinawalk-pharmacy", "masks", "home", 40),
         ("lalaport-grocer", "bento", "mixed", 80), ("office-tower-kiosk", "sandwiches", "office", 60))
REDEEMERS = ("vinawalk-cafe", "lalaport-grocer", "office-tower-kiosk")  # where codes without a shop are shown
# Topics whose log no one reads back here (the bus delivers from its queue; the gateway reads the campaign,
# car, anomaly and rejection topics and the ledger): each new day forgets them, or a long run keeps ~10 MB a day.
FORGET = (crowd.COUNTS, ledger.RECEIPTS, ledger.ANCHORS, energy.DISPATCH, energy.ORDERS, energy.TRADES,
          energy.CLEARINGS, incentives.USERS, logistics.STOCK)


def _uniform(*parts: object) -> float:
    """A reproducible draw in [0, 1) from its parts (independent of the order events arrive in)."""
    digest = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def _minute_of_day(moment: datetime) -> int:
    local = moment.astimezone(TOKYO)
    return local.hour * 60 + local.minute


@dataclass
class Totals:
    """What the city has done so far (the printed lines and the tests read it)."""

    minutes: int = 0
    orders: int = 0
    trades: int = 0
    p2p_kwh: Decimal = Decimal(0)
    slots_cleared: int = 0
    campaigns: int = 0
    trips: int = 0
    offers: int = 0
    accepted: int = 0
    declined: int = 0
    redeemed: int = 0
    rewards_yen: int = 0
    anomalies: int = 0
    shop_days: int = 0

    def copy(self) -> Totals:
        return Totals(**vars(self))


@dataclass
class _Follower:
    """The records of one topic published since the last look (positions count what the bus forgot)."""

    topic: Any
    seen: int = 0

    def new(self, bus: InProcessBus) -> list[Payload]:
        dropped = bus.forgotten.get(self.topic.name, 0)
        fresh = bus.log.get(self.topic.name, [])[max(0, self.seen - dropped):]
        self.seen = max(self.seen, dropped) + len(fresh)
        return [decode(raw, self.topic)[1] for raw in fresh if raw]


@dataclass
class _Session:
    """An app user's car charging today: one transaction, metered slot by slot until it leaves."""

    transaction_id: int
    depart: datetime
    charger: str | None = None
    started_at: datetime | None = None
    kwh: Decimal = Decimal(0)


@dataclass
class DayPlan:
    """A simulated day, drawn at its start: the PV weather and the trips announced per minute of the day."""

    day: date
    weather: float
    trips: dict[int, list[incentives.TripExpected]] = field(default_factory=dict)


class DemoCity:
    """The services on one bus and the simulated city around them; :meth:`step` advances one minute."""

    def __init__(self, ledger: Ledger, *, day: date = date(2026, 5, 20), start_hour: int = 6, seed: int = 0,
                 agents: int = 20_000, code_secret: str = "demo-only-redemption-secret",
                 app_users: Iterable[str] = (), anchor_file: AnchorFile | None = None) -> None:
        """``app_users``: people who answer their offers themselves (through the app); each gets a trip
        across the gates and a car to charge every day (:meth:`add_app_user` adds one later). ``start_hour``:
        local hour of ``day`` the city starts."""
        from services.charging.bootstrap import build_charging
        from services.incentives.bootstrap import build_incentives
        from services.incentives.config import IncentivesConfig
        from services.incentives.settings import IncentiveSettings
        from services.logistics.shop_watch import ShopWatch
        from services.market.adapters.community_yaml import load_community
        from services.market.bootstrap import build_market
        from services.market.config import MarketConfig
        from services.market.simulate import initial_soc, market_memory, simulate_day
        from services.settlement.bootstrap import build_settlement
        from simulator.bootstrap import build_city_monitor
        from simulator.live import baselines_from_simulation
        from simulator.scenario import load_scenario

        if not 1 <= start_hour <= 23:
            raise ValueError("start_hour: between 1 and 23")
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.now = datetime(day.year, day.month, day.day, start_hour, tzinfo=TOKYO)
        self.app_users = set(app_users)
        self.community = load_community(COMMUNITY)
        self.soc = initial_soc(self.community)
        # The market's book per half-hour, from which a member whose profile plans forecasts its day: seeded by
        # the day before (cleared by the market core directly), then every live slot's orders and trades.
        self.memory = market_memory(self.community)
        if any(self.community.profiles[m.profile].plans for m in self.community.members):
            simulate_day(self.community, day - timedelta(days=1), weather_factor=0.8, memory=self.memory)
        scenario = load_scenario(SCENARIO)
        scenario = scenario.with_overrides(seed=scenario.seed + seed)
        midnight = self.now.replace(hour=0)
        city_sim = self._city_sim(scenario, agents, midnight)
        # The replay starts at midnight: its first minute brings the day's forecast; the counts before the
        # start hour are passed over.
        self.forecasts = [o.payload for o in city_sim.timers[0].tick()
                          if isinstance(o.payload, crowd.CrowdForecastPublished)]
        for _ in range(start_hour * 60 - 1):
            city_sim.timers[0].tick()
        watch = ShopWatch()
        shop_watch = Service("shop-watch", {logistics.SHOP_DAYS: {logistics.ShopDayReported: watch.on_report}})
        self.clock: Callable[[], datetime] = lambda: self.now
        self.bus = InProcessBus([
            # app users the community's registry does not know buy within the app users' limits
            build_market(MarketConfig(admit_unregistered=True), community=self.community, clock=self.clock),
            build_settlement(ledger, anchor_file=anchor_file),
            build_incentives(IncentivesConfig(code_secret=code_secret, round_seconds=300), clock=self.clock,
                             tuning=IncentiveSettings(seed=seed)),
            build_charging(clock=self.clock),
            city_sim,
            build_city_monitor(baselines_from_simulation(scenario, agents=agents)),
            shop_watch,
        ], clock=self.clock)
        self.totals = Totals()
        self._published = 0
        self.plan: DayPlan | None = None
        # the slot whose trades move the storage next, its agents' inputs and its orders
        self._pending: tuple[datetime, list[Any], list[energy.EnergyOrderPlaced]] | None = None
        self._trades: list[energy.TradeMatched] = []
        self._redemptions: dict[datetime, list[incentives.RedemptionRequested]] = {}
        self._coupons: dict[str, int] = {}  # coupons redeemed per shop today
        self._offers: dict[str, incentives.IncentiveOfferMade] = {}
        # each car's charging per slot as last booked before the slot began (slot -> charger, kWh)
        self._booked: dict[str, dict[datetime, tuple[str, Decimal]]] = {}
        self._sessions: dict[str, _Session] = {}    # each app user's car's charging today
        self._follow = {t.name: _Follower(t) for t in (energy.ORDERS, energy.TRADES, energy.CLEARINGS,
                                                        incentives.OFFERS, incentives.RESPONSES,
                                                        incentives.REDEMPTIONS, crowd.ANOMALIES, BOOKINGS)}
        for forecast in self.forecasts:
            self._publish(crowd.FORECASTS, forecast, producer="city-sim")
        self._shop_history(day)
        self.bus.run_until_idle()
        self._observe()

    def _city_sim(self, scenario: Scenario, agents: int, midnight: datetime) -> Service:
        """The live city simulator, answering the simulated people's offers only (app users answer theirs)."""
        from simulator.live import build_simulator_service

        # The demo's bus has no ride service, so the simulated riders' requests would wait for ever.
        service = build_simulator_service(scenario, agents=agents, day=midnight, name="city-sim",
                                          ride_requests=False)
        answer = service.handlers[incentives.OFFERS][incentives.IncentiveOfferMade]
        def on_offer(envelope: Envelope, payload: incentives.IncentiveOfferMade) -> Iterable[Outgoing]:
            return [] if payload.user in self.app_users else answer(envelope, payload)

        service.handlers = {**service.handlers, incentives.OFFERS: {incentives.IncentiveOfferMade: on_offer}}
        return service

    def _publish(self, topic: Any, payload: Payload, producer: str) -> None:
        """Publish as the simulated city at the simulated time, with event ids drawn from the seed (the
        services derive their outputs' ids from them, and the charging service its order ids)."""
        Outgoing(topic, payload)  # the topic must carry the payload's type
        self._published += 1
        envelope = Envelope.wrap(payload, producer, occurred_at=self.now,
                                 event_id=derived_event_id(f"demo-city/{self.seed}", self._published, payload.key()))
        self.bus.publish_raw(topic.name, encode(envelope))

    # ------------------------------------------------------------------ the minute
    def step(self) -> None:
        """One simulated minute: what the city does in it, then the services' timers, then the bus runs dry."""
        now = self.now
        minute = _minute_of_day(now)
        if self.plan is None or now.date() != self.plan.day:
            self._start_day(now.date())
        assert self.plan is not None
        if minute % 30 == 0:
            self._place_orders(now + timedelta(minutes=30))
            self._meter_cars()
        for trip in self.plan.trips.pop(minute, []):
            self._publish(incentives.USERS, trip, producer="resident")
            self.totals.trips += 1
        for request in self._redemptions.pop(now, []):
            self._publish(incentives.REDEMPTIONS, request, producer="shop")
        if minute == SHOP_REPORT_AT:
            self._shop_day(now.date())
        self.bus.run_until_idle()
        self.bus.tick()
        self.bus.run_until_idle()
        self._observe()
        self.totals.minutes += 1
        self.now = now + timedelta(minutes=1)

    def add_app_user(self, user: str) -> None:
        """One more person who answers in the app: from the first step on if added before it, else from the
        next day (the day's trips are drawn at its start)."""
        self.app_users.add(user)

    def run(self, minutes: int) -> Totals:
        for _ in range(minutes):
            self.step()
        return self.totals

    def close(self) -> None:
        self.bus.stop()

    # ------------------------------------------------------------------ what the city does
    def _start_day(self, day: date) -> None:
        """The day's weather, the residents' trips, the app users' trip and car, and the day's campaign."""
        from services.incentives.ebina import GATE_CATALOGUE

        if self.plan is not None:
            self._forget()
        plan = DayPlan(day, weather=round(float(self.rng.uniform(0.45, 1.0)), 2))
        load = np.array(next(f.persons for f in self.forecasts if f.zone == CAMPAIGN_PLACE), dtype=np.float64)
        first, last = 6 * 60 + 30, 21 * 60
        weights = load[first:last] / load[first:last].sum()
        crossings = first + self.rng.choice(last - first, size=TRIPS_PER_DAY, p=weights)
        users = self.rng.choice(RESIDENTS, size=TRIPS_PER_DAY, replace=False)
        midnight = datetime(day.year, day.month, day.day, tzinfo=TOKYO)
        start = _minute_of_day(self.now) if self.now.date() == day else 0
        for user, crossing in zip(users.tolist(), crossings.tolist(), strict=True):
            hour = crossing // 60
            segments = (("commute_out", "transfer") if hour < 10 else ("shopping", "leisure", "local_shopping")
                        if hour < 17 else ("commute_in", "home", "leisure"))
            trip = incentives.TripExpected(user=f"r{user:04d}", segment=segments[int(self.rng.integers(len(segments)))],
                                           place=CAMPAIGN_PLACE, at=midnight + timedelta(minutes=crossing))
            plan.trips.setdefault(max(crossing - TRIP_NOTICE, start), []).append(trip)
        # the app users cross at the evening peak: by then whoever started the demo has signed in to the app
        peak = 17 * 60 + int(np.argmax(load[17 * 60:19 * 60 + 30]))
        for user in sorted(self.app_users):
            plan.trips.setdefault(max(peak - TRIP_NOTICE, start), []).append(incentives.TripExpected(
                user=user, segment="commute_out", place=CAMPAIGN_PLACE, at=midnight + timedelta(minutes=peak)))
            self._car(user, midnight)
        self.plan = plan
        self._coupons = {}
        campaign = incentives.CampaignLaunched(
            campaign_id=f"demo-gates-{day:%Y%m%d}", operator=OPERATOR, day=day, goal_kind="cut_load",
            place=CAMPAIGN_PLACE, window=CAMPAIGN_WINDOW, share=0.1, daily_budget_yen=CAMPAIGN_DAILY_YEN,
            guard_yen=3 * CAMPAIGN_DAILY_YEN, valid_minutes=OFFER_VALID_MINUTES,
            offers=tuple(incentives.CatalogueOffer(offer_id=o.offer_id, kind=o.kind, reward_yen=o.reward_yen,
                                                   shift_min=o.shift_min, shop=o.shop, label=o.label)
                         for o in GATE_CATALOGUE))
        self._publish(incentives.CAMPAIGNS, campaign, producer="operator")
        self.totals.campaigns += 1

    def _forget(self) -> None:
        """Drop what the bus's log holds of :data:`FORGET`'s topics and the offers of days gone."""
        for topic in FORGET:
            self.bus.forget(topic.name)
        old = self.now - timedelta(days=1)
        self._offers = {k: o for k, o in self._offers.items() if o.made_at is None or o.made_at >= old}

    def _car(self, user: str, midnight: datetime) -> None:
        """The app user's car: at the office park from 09:00 to 18:00 (or from the next slot on), 30 kWh to go."""
        opens = self.now.replace(minute=0 if self.now.minute < 30 else 30, second=0) + timedelta(minutes=60)
        arrive = max(midnight + timedelta(hours=9), opens)
        depart = max(midnight + timedelta(hours=18), arrive + timedelta(hours=3))
        vehicle = f"ev-{user}"[:20]
        self._sessions[vehicle] = _Session(transaction_id=int(f"{midnight:%Y%m%d}") * 100 + len(self._sessions),
                                           depart=depart)
        self._publish(PLANS, EvPlanSubmitted(
            vehicle=vehicle, participant=user, battery_kwh=Decimal(40), soc_kwh=Decimal(12),
            max_charge_kw=Decimal(6), stays=(PlannedStay(site="office-park", arrive=arrive, depart=depart,
                                                         need_kwh=Decimal(30), trip_kwh=Decimal(6)),)),
            producer="app")

    def _meter_cars(self) -> None:
        """The chargers' meters: what each app user's car took in the slot that just ended, as its charging
        service booked it; the reading after the car leaves is final (the session is billed on it)."""
        ended = (self.now - timedelta(minutes=30)).astimezone(UTC)
        for vehicle, session in list(self._sessions.items()):
            taken = self._booked.get(vehicle, {}).pop(ended, None)
            if taken is not None and session.charger is None:
                session.charger, session.started_at = taken[0], ended
            session.kwh += taken[1] if taken is not None else Decimal(0)
            final = self.now >= session.depart
            if session.charger is not None and (taken is not None or final):
                self._publish(SESSIONS, ChargingSessionMetered(
                    charger=session.charger, vehicle=vehicle, transaction_id=session.transaction_id,
                    kwh=session.kwh, started_at=session.started_at or ended, read_at=self.now, final=final),
                    producer="charger")
            if final:
                del self._sessions[vehicle]

    def _place_orders(self, slot: datetime) -> None:
        """The members' devices bid for ``slot`` (their storage moved first by the previous slot's trades)."""
        from services.market.simulate import follow_contracts, slot_orders

        assert self.plan is not None
        slot = slot.astimezone(UTC)
        if self._pending is not None:
            done, inputs, placed = self._pending
            traded = [t for t in self._trades if t.slot == done]
            follow_contracts(self.community, inputs, traded, self.soc, done)
            self.memory.record(done, placed, traded)
        self._trades = [t for t in self._trades if t.slot >= slot]
        inputs, orders = slot_orders(self.community, slot, self.plan.weather, self.soc, self.now, self.memory)
        for order in orders:
            self._publish(energy.ORDERS, order, producer="device-agent")
        self._pending = (slot, inputs, orders)

    def _shop_history(self, first_day: date) -> None:
        """The shops' ordinary days before the first simulated one (what their anomalies are judged on)."""
        for back in range(HISTORY_DAYS, 0, -1):
            for shop, item, area, usual in SHOPS:
                sold = int(self.rng.poisson(usual))
                self._publish(logistics.SHOP_DAYS, logistics.ShopDayReported(
                    shop=shop, item=item, day=first_day - timedelta(days=back), sold=sold,
                    stock_end=int(usual * 1.5) - sold if int(usual * 1.5) > sold else 0, area=area), producer="shop")

    def _shop_day(self, day: date) -> None:
        """Closing time: each shop reports its day (coupons redeemed there bring customers); now and then a
        shop sells out early or has a run on an item."""
        odd = self.rng.random()
        odd_shop = int(self.rng.integers(len(SHOPS)))
        for k, (shop, item, area, usual) in enumerate(SHOPS):
            sold = int(self.rng.poisson(usual)) + self._coupons.get(shop, 0)
            stocked = max(int(usual * 1.5), sold)
            if k == odd_shop and odd < 0.3:
                sold = stocked = int(usual * 3.5)        # a run on the item: sold out at three and a half times
            elif k == odd_shop and odd < 0.6:
                stocked = sold                           # a delivery missed: nothing left at closing
            self._publish(logistics.SHOP_DAYS, logistics.ShopDayReported(
                shop=shop, item=item, day=day, sold=sold, stock_end=stocked - sold, area=area), producer="shop")
            self.totals.shop_days += 1

    # ------------------------------------------------------------------ what the services did
    def _observe(self) -> None:
        t = self.totals
        t.orders += sum(isinstance(p, energy.EnergyOrderPlaced) for p in self._follow[energy.ORDERS.name].new(self.bus))
        for trade in self._follow[energy.TRADES.name].new(self.bus):
            assert isinstance(trade, energy.TradeMatched)
            t.trades += 1
            if "grid" not in (trade.seller, trade.buyer):
                t.p2p_kwh += trade.kwh
            self._trades.append(trade)
        t.slots_cleared += len(self._follow[energy.CLEARINGS.name].new(self.bus))
        for offer in self._follow[incentives.OFFERS.name].new(self.bus):
            assert isinstance(offer, incentives.IncentiveOfferMade)
            self._offers[offer.offer_id] = offer
            t.offers += 1
        for answer in self._follow[incentives.RESPONSES.name].new(self.bus):
            if isinstance(answer, incentives.IncentiveOfferAnswered):
                if answer.accepted:
                    t.accepted += 1
                    self._plan_redemption(answer.offer_id)
                else:
                    t.declined += 1
        for result in self._follow[incentives.REDEMPTIONS.name].new(self.bus):
            if isinstance(result, incentives.RewardRedeemed):
                t.redeemed += 1
                t.rewards_yen += result.reward_yen
                offer = self._offers.get(result.offer_id)
                if offer is not None and offer.shop == result.redeemer:  # a coupon brings a customer
                    self._coupons[result.redeemer] = self._coupons.get(result.redeemer, 0) + 1
        t.anomalies += len(self._follow[crowd.ANOMALIES.name].new(self.bus))
        for booked in self._follow[BOOKINGS.name].new(self.bus):
            if isinstance(booked, EvBooked):  # a re-plan changes the slots from its first open one on
                slots = {k: v for k, v in self._booked.get(booked.vehicle, {}).items() if k < booked.planned_at}
                for b in booked.bookings:
                    charger, kwh = slots.get(b.slot, (b.charger, Decimal(0)))
                    slots[b.slot] = (charger, kwh + b.kwh)
                self._booked[booked.vehicle] = slots

    def _plan_redemption(self, offer_id: str) -> None:
        """Most accepted offers' codes are shown at a shop some time after the (moved) trip."""
        offer = self._offers.get(offer_id)
        if offer is None or offer.code is None or _uniform(self.seed, offer_id, "redeem") >= REDEEM_SHARE:
            return
        delay = 1 + offer.shift_min + int(_uniform(self.seed, offer_id, "delay") * 50)
        shop = offer.shop or REDEEMERS[int(_uniform(self.seed, offer_id, "shop") * len(REDEEMERS))]
        when = self.now + timedelta(minutes=delay)
        self._redemptions.setdefault(when, []).append(incentives.RedemptionRequested(code=offer.code, redeemer=shop))
