"""Model-level hooks. DESIGN.md keeps business logic out of signals; this module holds the
exceptions, each a security invariant that must hold however the model is saved.

**Bearer tokens die with the password.** A password changes through Django's own code paths
(the admin's password form, ``manage.py changepassword``, ``set_password`` and ``save`` in a
service or the shell, ``set_unusable_password``), none of which goes through a service of
ours, and ``auth.User`` is not our model to override ``save`` on. Sessions already end there
(Django's session auth hash is an HMAC of the stored hash); the knox tokens issued by
``POST /api/auth/token`` must end too. So the one seam every path crosses is the save of the
user row: when the stored hash is about to change, the user's tokens are revoked (by the
service) before the new hash is written, in the same transaction when there is one; were the
save to fail after that, the user only has to ask for a new token.

Like the session hash, any change of the stored hash counts, including Django's upgrade of a
hash to a stronger hasher when the user next logs in with the password.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models.signals import pre_save


def _revoke_tokens_when_the_password_changes(sender, instance, raw=False, using=None, **kwargs):
    if raw or instance.pk is None:
        return  # fixture loading, or a new user (who has no tokens yet)
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and "password" not in update_fields:
        return  # e.g. last_login on every login: no query
    stored = (
        sender._default_manager.using(using)
        .filter(pk=instance.pk)
        .values_list("password", flat=True)
        .first()
    )
    if stored is not None and stored != instance.password:
        from tenants.services import user_tokens_revoke_all

        user_tokens_revoke_all(user=instance)


def connect() -> None:
    pre_save.connect(
        _revoke_tokens_when_the_password_changes,
        sender=get_user_model(),
        dispatch_uid="hub_revoke_tokens_on_password_change",
    )
