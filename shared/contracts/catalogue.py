"""The topic catalogue: every domain's topics in one explicit list, checked when this module loads.

A domain joins by adding its module (``shared/contracts/<domain>.py`` with a ``TOPICS`` tuple) to
:data:`DOMAINS`. Nothing registers itself on import, so what can be decoded never depends on which modules
happen to have been imported.
"""

from __future__ import annotations

from types import ModuleType

from shared.contracts import charging, crowd, energy, incentives, ledger, logistics, mobility
from shared.contracts.base import AnyTopic, Payload

DOMAINS: tuple[ModuleType, ...] = (energy, ledger, crowd, incentives, charging, mobility, logistics)


def _topics(domains: tuple[ModuleType, ...]) -> dict[str, AnyTopic]:
    catalogue: dict[str, AnyTopic] = {}
    for domain in domains:
        for t in domain.TOPICS:
            if t.name in catalogue:
                raise ValueError(f"topic {t.name!r} is declared twice (in {domain.__name__})")
            if not t.payloads:
                raise ValueError(f"topic {t.name!r} carries no payload type")
            catalogue[t.name] = t
    return catalogue


def _payload_types(topics: dict[str, AnyTopic]) -> dict[str, type[Payload]]:
    types: dict[str, type[Payload]] = {}
    for t in topics.values():
        for cls in t.payloads:
            known = types.setdefault(cls.event_type, cls)
            if known is not cls:
                raise ValueError(f"event type {cls.event_type!r} names both {known.__qualname__} "
                                 f"and {cls.__qualname__}")
    return types


CATALOGUE: dict[str, AnyTopic] = _topics(DOMAINS)
PAYLOAD_TYPES: dict[str, type[Payload]] = _payload_types(CATALOGUE)


def topic(name: str) -> AnyTopic:
    """The catalogued topic called ``name`` (a dead-letter topic is not one: use ``topic(name).dlq``)."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise KeyError(f"topic {name!r} is not in the catalogue (shared/contracts)") from None


def all_topic_names(with_dlq: bool = True) -> list[str]:
    names = list(CATALOGUE)
    if with_dlq:
        names += [t.dlq for t in CATALOGUE.values()]
    return names


def payload_class(event_type: str) -> type[Payload]:
    try:
        return PAYLOAD_TYPES[event_type]
    except KeyError:
        known = ", ".join(sorted(PAYLOAD_TYPES))
        raise KeyError(f"unknown event type {event_type!r} (known: {known})") from None
