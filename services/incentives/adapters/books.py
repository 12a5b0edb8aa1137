"""The campaign service's books as it would rebuild them: its topics re-read through its own handlers.

Reading the campaign, offer, response and redemption topics of the last ``window`` (the service replays two
days at start-up) through a fresh :class:`IncentivesService` gives exactly what the running service believes
it has funded, paid and committed per campaign, without asking it (and without disturbing it: a plain
consumer outside any group, outputs thrown away, nothing published).
"""

from __future__ import annotations

from datetime import timedelta

from services.incentives.domain.reconcile import CampaignBooks
from services.incentives.service import build_service
from services.incentives.settings import IncentiveSettings
from shared.bus.replay import replay
from shared.contracts.incentives import CAMPAIGNS, OFFERS, REDEMPTIONS, RESPONSES

WINDOW = timedelta(days=2)
# In the order the service replays them: a campaign before its offers, an offer before its answers and codes.
TOPICS = (CAMPAIGNS, OFFERS, RESPONSES, REDEMPTIONS)


def books_from_kafka(bootstrap: str, window: timedelta = WINDOW, timeout_s: float = 60.0,
                     settings: IncentiveSettings | None = None) -> dict[str, CampaignBooks]:
    service = build_service(settings or IncentiveSettings())
    for topic in TOPICS:
        replay(service, bootstrap, topic.name, window, timeout_s)
    return service.incentives.books()  # type: ignore[attr-defined, no-any-return]
