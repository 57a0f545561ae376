"""Credentials at rest: Fernet tokens under keys from the environment.

``FIELD_ENCRYPTION_KEYS`` lists the keys newest first: the first encrypts,
all decrypt (MultiFernet), so keys rotate without downtime. A token that no
key opens raises CredentialDecryptError: a wrong key never passes ciphertext
off as the secret.
"""

import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from inventory_site.errors import InventoryError

MSG_DECRYPT_FAILED = _(
    "A stored credential cannot be decrypted with the configured FIELD_ENCRYPTION_KEYS. "
    "Restore the key it was encrypted with, or enter the credential again."
)
MASK = "••••"


class CredentialDecryptError(InventoryError):
    pass


@lru_cache(maxsize=4)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty.")
    try:
        return MultiFernet([Fernet(key.strip().encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be urlsafe base64 Fernet keys (32 bytes each)."
        ) from exc


def _fernet() -> MultiFernet:
    return _fernet_for(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt_secret(plaintext: str) -> str:
    """The Fernet token of ``plaintext`` ('' stays '': no secret set)."""
    if not plaintext:
        return ""
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt_secret(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise CredentialDecryptError(str(MSG_DECRYPT_FAILED)) from exc


def rotate_secret(token: str) -> str:
    """Re-encrypt ``token`` under the newest key."""
    if not token:
        return ""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise CredentialDecryptError(str(MSG_DECRYPT_FAILED)) from exc


def mask_secret(plaintext: str) -> str:
    """What a page may show of a secret: its last four characters at most.

    Short secrets show nothing but the mask.
    """
    if not plaintext:
        return ""
    if len(plaintext) < 12:
        return MASK
    return f"{MASK}{plaintext[-4:]}"


def encrypt_credentials(credentials: dict[str, str]) -> str:
    """One token for every credential of a store (blank values left out)."""
    values = {name: value for name, value in credentials.items() if value}
    return encrypt_secret(json.dumps(values, sort_keys=True)) if values else ""


def decrypt_credentials(token: str) -> dict[str, str]:
    return json.loads(decrypt_secret(token)) if token else {}
