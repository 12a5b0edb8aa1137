"""One exception hierarchy for the platform; each class says in one line when it is raised."""


class CitymatchError(Exception):
    """Base of every error the platform raises on purpose."""


class EventDecodeError(CitymatchError):
    """A message's bytes are not a valid envelope or its payload does not fit the schema."""


class DomainError(CitymatchError):
    """A request breaks a business rule; the message says which one (HTTP 4xx at the gateway)."""


class NotFound(DomainError):
    """Nothing of that id the caller may see (someone else's reads the same as a missing one)."""


class NotYetAnchored(DomainError):
    """A ledger entry exists but its slot's published anchor does not cover it yet."""


class ConfigError(CitymatchError):
    """Settings are missing or unsafe for the chosen environment."""


class RetryableError(CitymatchError):
    """The message is fine but the work on it failed for now (a solver that did not finish, a dependency that
    is down): the transport retries it with backoff and alerts, it never dead-letters it."""
