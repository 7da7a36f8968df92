"""The back-office login under the API's password policy (tenants/throttling.py): the same
rates per client address and per user name, and the same lockout of (user name, address),
counted in the same store, so a guess spread over the admin and the API is one guess."""

from __future__ import annotations

import math

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.views.decorators.debug import sensitive_variables
from rest_framework import exceptions

from tenants import throttling


def _wait_text(seconds: float) -> str:
    minutes = math.ceil(seconds / 60)
    if seconds <= 60:
        return f"{math.ceil(seconds)} seconds"
    return f"{minutes} minutes"


class AdminLoginForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": "Too many login attempts. Try again in %(wait)s.",
        "locked": (
            "Too many failed logins for this user name from your address: logging in is "
            "locked for %(wait)s. Ask an administrator if you forgot your password."
        ),
    }

    @sensitive_variables()
    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = throttling.authenticate_password(
                    self.request, username=username, password=password
                )
            except exceptions.Throttled as exc:
                code = "locked" if isinstance(exc, throttling.LoginLocked) else "throttled"
                raise ValidationError(
                    self.error_messages[code],
                    code=code,
                    params={"wait": _wait_text(exc.wait or 1)},
                ) from None
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data
