"""The event contract every service shares: one module per domain, one catalogue, one codec.

- ``base``: :class:`Payload`, :class:`Envelope`, :class:`Topic` and the field types (slots, kWh, yen/kWh);
- ``energy``, ``ledger``, ``crowd``, ``incentives``, ``charging``, ``mobility``, ``logistics``: each domain's
  payloads and topics (``TOPICS``);
- ``catalogue``: every topic by name, every payload by event type (a new domain adds one line there);
- ``codec``: encode, and decode that checks topic, event type, schema version, payload and key.

Services import these and nothing of each other.
"""

from shared.contracts.base import Envelope, Payload, Topic
from shared.contracts.codec import decode, encode

__all__ = ["Envelope", "Payload", "Topic", "decode", "encode"]
