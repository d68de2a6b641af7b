"""API tokens survive a rehash of the same password (a Django or hasher upgrade).

Tokens hold a fingerprint of their owner's password hash, so that any password change voids
them, even a bulk UPDATE. But `check_password` also rewrites the hash of the *same*
password when its hasher is outdated (Django raises its iteration counts at each release,
or `PASSWORD_HASHERS` changes): that save would void every token at the first login after
an upgrade. Such a save is recognised by what Django's setter does: `save(update_fields=
["password"])` with `_password` reset to None (a `set_password` keeps the raw password in
`_password` until the save), and the stored hash being outdated for the current hashers.
Then the tokens matching the old hash are re-fingerprinted with the new one (one query to
read the old hash, one update), in the same save.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.hashers import get_hasher, identify_hasher


def carry_tokens_across_rehash(
    sender: Any, instance: Any, update_fields: Any = None, **_: Any
) -> None:
    if (
        instance.pk is None
        or update_fields is None
        or set(update_fields) != {"password"}
        or getattr(instance, "_password", "") is not None
    ):
        return
    old = (
        sender._base_manager.using(instance._state.db or "default")
        .filter(pk=instance.pk)
        .values_list("password", flat=True)
        .first()
    )
    if not old or old == instance.password or not _outdated(old):
        return
    from core.models import ApiToken, hash_fingerprint

    ApiToken.objects.using(instance._state.db or "default").filter(
        user_id=instance.pk, password_fingerprint=hash_fingerprint(old)
    ).update(password_fingerprint=hash_fingerprint(instance.password))


def _outdated(password_hash: str) -> bool:
    """Whether check_password would rehash this hash (another hasher, or weaker settings)."""
    try:
        hasher = identify_hasher(password_hash)
    except ValueError:
        return False
    return hasher.algorithm != get_hasher().algorithm or hasher.must_update(password_hash)
