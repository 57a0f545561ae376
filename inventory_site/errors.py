"""The base of every error the services raise for a user to read."""


class InventoryError(Exception):
    """A refused operation; ``message`` is shown to the user as it is."""

    def __init__(self, message: str, **params: object) -> None:
        self.params = params
        self.message = message % params if params else message
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


def validation_message(exc: Exception) -> str:
    """One readable line from a Django ValidationError (or any exception)."""
    messages = getattr(exc, "messages", None)
    if messages:
        return " ".join(str(message) for message in messages)
    return str(exc)
