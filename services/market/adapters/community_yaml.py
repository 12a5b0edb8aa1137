"""Read a community YAML file into a validated :class:`Community`, with errors that name the field.

Schema (see ``services/market/communities/*.yaml``): ``name``, ``location``, ``market`` (wheeling fee,
gate closure, pricing), ``tariffs`` (retail, buy-back), ``profiles`` (bid tables, ``plan: true`` for one
whose battery plans its day; the built-in economy, green, price_first and planned are always there),
``sites`` (id, optional line capacity) and ``participants``. A participant entry with ``count: n`` stands
for n members whose ids are formatted from ``id`` with ``{i}`` (1..n), e.g. ``home-{i:02d}``.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from services.market.domain.community import Battery, Community, Ev, Member
from services.market.domain.load import SHAPES
from services.market.domain.pricing import PRICING_RULES
from services.market.domain.profiles import BUILTIN_PROFILES, BidTable, Profile
from services.market.domain.solar import SiteLocation

COMMUNITY_DIR = Path(__file__).resolve().parent.parent / "communities"
Kind = Literal["household", "office", "shopping_centre", "battery", "ev"]


class CommunityError(ValueError):
    """The community file is missing, unreadable or does not fit the schema."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocationSpec(_Strict):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    tz: str = "Asia/Tokyo"
    altitude_m: float = 0.0


class MarketSpec(_Strict):
    wheeling_fee: Decimal = Field(default=Decimal("10"), ge=0, decimal_places=2)
    gate_closure_minutes: int = Field(default=5, ge=0, le=24 * 60)
    pricing: str = "pay-as-clear"

    @model_validator(mode="after")
    def _pricing_known(self) -> MarketSpec:
        if self.pricing not in PRICING_RULES:
            raise ValueError(f"pricing must be one of {', '.join(PRICING_RULES)}")
        return self


class TariffSpec(_Strict):
    retail: Decimal = Field(ge=0, le=1000, decimal_places=2)
    buyback: Decimal = Field(ge=0, le=1000, decimal_places=2)

    @model_validator(mode="after")
    def _order(self) -> TariffSpec:
        if self.buyback > self.retail:
            raise ValueError("buyback must not exceed retail")
        return self


class ProfileSpec(_Strict):
    table: list[tuple[Decimal, Decimal]] = Field(min_length=1)
    green_premium: Decimal = Field(default=Decimal("0"), ge=0, decimal_places=2)
    plan: bool = False  # the battery plans its day from a price forecast (services.market.domain.day_plan)


class SiteSpec(_Strict):
    id: str = Field(min_length=1, max_length=64)
    line_capacity_kwh: Decimal | None = Field(default=None, ge=0, decimal_places=3)


class BatterySpec(_Strict):
    capacity_kwh: Decimal = Field(gt=0)
    power_kw: Decimal = Field(gt=0)
    soc_pct: Decimal = Field(default=Decimal("50"), ge=0, le=100)


class EvSpec(BatterySpec):
    plugged_from: int = Field(default=18, ge=0, le=23)
    plugged_until: int = Field(default=7, ge=0, le=23)
    needed_soc_pct: Decimal = Field(default=Decimal("80"), ge=0, le=100)
    v2g: bool = False


class ParticipantSpec(_Strict):
    id: str = Field(min_length=1, max_length=60)
    kind: Kind
    profile: str = "economy"
    site: str | None = None
    count: int = Field(default=1, ge=1, le=10_000)
    daily_load_kwh: Decimal = Field(default=Decimal("0"), ge=0)
    load_shape: str | None = None
    pv_kwp: Decimal = Field(default=Decimal("0"), ge=0)
    battery: BatterySpec | None = None
    ev: EvSpec | None = None
    retail_price: Decimal | None = Field(default=None, ge=0, le=1000, decimal_places=2)
    preferred_partners: list[str] = []
    max_order_kwh: Decimal | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> ParticipantSpec:
        if self.load_shape is not None and self.load_shape not in SHAPES:
            raise ValueError(f"load_shape must be one of {', '.join(SHAPES)}")
        if self.kind == "battery" and self.battery is None:
            raise ValueError("a stand-alone battery needs a 'battery' entry")
        if self.kind == "ev" and self.ev is None:
            raise ValueError("an EV participant needs an 'ev' entry")
        if self.count > 1 and "{i" not in self.id:
            raise ValueError("with count > 1 the id must contain {i}, e.g. home-{i:02d}")
        return self


class CommunitySpec(_Strict):
    name: str
    location: LocationSpec
    market: MarketSpec = MarketSpec()
    tariffs: TariffSpec
    profiles: dict[str, ProfileSpec] = {}
    sites: list[SiteSpec] = []
    participants: list[ParticipantSpec] = Field(min_length=1)


_DEFAULT_SHAPE = {"household": "household", "office": "office", "shopping_centre": "shopping_centre",
                  "battery": "flat", "ev": "flat"}


def parse_community(data: Any, source: str = "<community>") -> Community:
    """Validate already-parsed YAML/JSON data and build the community."""
    try:
        spec = CommunitySpec.model_validate(data)
    except ValidationError as exc:
        lines = [f"{source}: {'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}"
                 for err in exc.errors()]
        raise CommunityError("invalid community file\n" + "\n".join(lines)) from None
    try:
        return _build(spec)
    except (ValueError, KeyError, IndexError) as exc:
        raise CommunityError(f"{source}: {exc}") from None


def load_community(path: str | Path) -> Community:
    """Load a community by file path, or by name from the shipped examples (e.g. ``"ebina"``)."""
    p = Path(path)
    if not p.suffix and not p.exists():
        p = COMMUNITY_DIR / f"{path}.yaml"
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        shipped = ", ".join(sorted(f.stem for f in COMMUNITY_DIR.glob("*.yaml")))
        raise CommunityError(f"cannot read community file {p}: {exc.strerror} (shipped: {shipped})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CommunityError(f"{p}: not valid YAML: {exc}") from None
    return parse_community(data, str(p))


def _build(spec: CommunitySpec) -> Community:
    profiles: dict[str, Profile] = dict(BUILTIN_PROFILES)
    for name, ps in spec.profiles.items():
        try:
            profiles[name] = Profile(name, BidTable(tuple((s, p) for s, p in ps.table)), ps.green_premium,
                                     plans=ps.plan)
        except ValueError as exc:
            raise ValueError(f"profiles.{name}: {exc}") from None
    site_ids = [s.id for s in spec.sites]
    if len(set(site_ids)) != len(site_ids):
        raise ValueError("site ids must be unique")
    members: list[Member] = []
    for n, ps in enumerate(spec.participants):
        where = f"participants.{n} ({ps.id})"
        if ps.profile not in profiles:
            raise ValueError(f"{where}: unknown profile {ps.profile!r} (known: {', '.join(sorted(profiles))})")
        if ps.site is not None and ps.site not in site_ids:
            raise ValueError(f"{where}: unknown site {ps.site!r} (declare it under 'sites')")
        battery = Battery(ps.battery.capacity_kwh, ps.battery.power_kw, ps.battery.soc_pct) if ps.battery else None
        ev = Ev(ps.ev.capacity_kwh, ps.ev.power_kw, ps.ev.soc_pct, ps.ev.plugged_from, ps.ev.plugged_until,
                ps.ev.needed_soc_pct, ps.ev.v2g) if ps.ev else None
        for i in range(1, ps.count + 1):
            members.append(Member(
                participant_id=ps.id.format(i=i) if ps.count > 1 else ps.id, kind=ps.kind, profile=ps.profile,
                site=ps.site, daily_load_kwh=ps.daily_load_kwh, load_shape=ps.load_shape or _DEFAULT_SHAPE[ps.kind],
                pv_kwp=ps.pv_kwp,
                battery=battery, ev=ev,
                retail_price=ps.retail_price, preferred_partners=tuple(ps.preferred_partners),
                max_order_kwh=ps.max_order_kwh))
    ids = [m.participant_id for m in members]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"participant ids must be unique; repeated: {', '.join(dupes)}")
    unknown = sorted({p for m in members for p in m.preferred_partners if p not in ids})
    if unknown:
        raise ValueError(f"preferred partners name unknown participants: {', '.join(unknown)}")
    loc = spec.location
    return Community(
        name=spec.name, location=SiteLocation(loc.latitude, loc.longitude, loc.tz, loc.altitude_m),
        retail_price=spec.tariffs.retail, buyback_price=spec.tariffs.buyback, wheeling_fee=spec.market.wheeling_fee,
        gate_closure=timedelta(minutes=spec.market.gate_closure_minutes), pricing=spec.market.pricing,
        profiles=profiles,
        line_capacity_kwh={s.id: s.line_capacity_kwh for s in spec.sites if s.line_capacity_kwh is not None},
        members=tuple(members), sites=tuple(site_ids))
