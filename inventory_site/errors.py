"""The base of every error the services raise for a user to read."""


class InventoryError(Exception):
    """A refused operation; ``message`` is shown to the user as it is."""

    def __init__(self, message: str, **params: object) -> None:
        self.params = params
        self.message = message % params if params else message
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


def validation_message(exc: Exception, model: type | None = None) -> str:
    """One readable line from a Django ValidationError, each field's errors
    led by the field's name (its verbose name when ``model`` is given)."""
    error_dict = getattr(exc, "error_dict", None)
    if error_dict:
        parts = []
        for field, errors in error_dict.items():
            label = field
            if model is not None and field != "__all__":
                label = str(model._meta.get_field(field).verbose_name)
            text = " ".join(str(m) for error in errors for m in error.messages)
            parts.append(text if field == "__all__" else f"{label}: {text}")
        return " ".join(parts)
    messages = getattr(exc, "messages", None)
    if messages:
        return " ".join(str(message) for message in messages)
    return str(exc)
