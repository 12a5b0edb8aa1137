"""One exception hierarchy for the platform; each class says in one line when it is raised."""


class CitymatchError(Exception):
    """Base of every error the platform raises on purpose."""


class EventDecodeError(CitymatchError):
    """A message's bytes are not a valid envelope or its payload does not fit the schema."""


class DomainError(CitymatchError):
    """A request breaks a business rule; the message says which one (HTTP 4xx at the gateway)."""


class ConfigError(CitymatchError):
    """Settings are missing or unsafe for the chosen environment."""
