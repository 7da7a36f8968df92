"""Bearer tokens are revoked when the user's password changes, whatever changes it; sessions
end too, as Django makes them (issue 17, item 7; tenants/signals.py)."""

from __future__ import annotations

from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.test import Client
from knox.models import AuthToken

from tenants.services import user_token_issue
from tests.conftest import bearer_client, session_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW = "An0ther-long-passphrase!"


def _service_or_shell(user):
    user.set_password(NEW)
    user.save()


def _changepassword_command(user):
    with mock.patch("getpass.getpass", return_value=NEW):
        call_command("changepassword", user.username, stdout=StringIO())


def _admin_password_form(user):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    response = client.post(
        f"/admin/auth/user/{user.pk}/password/",
        {"usable_password": "true", "password1": NEW, "password2": NEW},
    )
    assert response.status_code == 302, response.content[:500]


def _unusable_password(user):
    user.set_unusable_password()
    user.save()


def _new_hash_saved_with_update_fields(user):
    from django.contrib.auth.hashers import make_password

    user.password = make_password(NEW)
    user.save(update_fields=["password"])


WAYS = {
    "set_password and save (a service, the shell)": _service_or_shell,
    "manage.py changepassword": _changepassword_command,
    "the admin's password form": _admin_password_form,
    "set_unusable_password": _unusable_password,
    "a new hash saved with update_fields": _new_hash_saved_with_update_fields,
}


@pytest.mark.parametrize("way", list(WAYS))
def test_a_password_change_revokes_every_token_and_session(world, way):
    user = world.agent
    tokens = [user_token_issue(user=user)[1] for _ in range(2)]
    other_users_token = user_token_issue(user=world.admin)[1]
    session = session_client(user)
    # Saves that leave the password alone keep the tokens (the last login is saved on
    # every login).
    user.first_name = "Renamed"
    user.save()
    user.save(update_fields=["last_login"])
    assert bearer_client(tokens[0]).get("/api/auth/me").status_code == 200

    WAYS[way](user)

    for token in tokens:
        response = bearer_client(token).get("/api/auth/me")
        assert response.status_code == 401
    assert not AuthToken.objects.filter(user=user).exists()
    assert session.get("/api/auth/me").status_code == 401
    assert bearer_client(other_users_token).get("/api/auth/me").status_code == 200
