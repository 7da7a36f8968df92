"""Phone numbers: one rule for every write of a phone (customers, addresses, contacts).

A phone is stored in one canonical form, E.164 (``+31612345678``), parsed by the
``phonenumbers`` library with the tenant's ``default_region`` for numbers written without
their country code (``0612345678`` in an ``NL`` tenant). A tenant without a default region
accepts only numbers that start with ``+`` and their country code.

Accepted: a number that is valid in its country's numbering plan, or a possible number
without its area code (the b2b seed's own example, ``+1-555-0456``, is one: the b2b
dialect must accept what its seed sends). Anything else (``call me maybe!!``, ``111``,
a Dutch mobile number missing a digit) is refused with a message that names the field.
An empty value stays empty (no phone). Extensions are dropped (E.164 has none).

Every service that writes a phone calls ``phone_normalize``: the dialects, the admin, the
import and the commands all go through those services, so they share this one rule.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

from tenants import errors
from tenants.error_codes import ErrorCode

#: what ``phonenumbers`` parses at most (longer input is not a phone number anyway)
MAX_INPUT = 64
REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)


def region_is_known(region: str) -> bool:
    """A region ``phonenumbers`` knows (ISO 3166-1 alpha-2, upper case), or "" for none."""
    return region == "" or region in REGIONS


def _message(region: str) -> str:
    if region:
        return (
            "Enter a valid phone number: digits, with its country code (e.g. +31 6 12345678) "
            f"or as a number of region {region}."
        )
    return "Enter a valid phone number with its country code, e.g. +31 6 12345678."


def phone_e164(value, *, region: str = "") -> str | None:
    """``value`` in E.164, "" for an empty value, or None when it is not a phone number."""
    text = "" if value is None else str(value).strip()
    if not text:
        return ""
    if len(text) > MAX_INPUT:
        return None
    try:
        number = phonenumbers.parse(text, region or None)
    except NumberParseException:
        return None
    if not (
        phonenumbers.is_valid_number(number)
        or phonenumbers.is_possible_number_with_reason(number)
        == ValidationResult.IS_POSSIBLE_LOCAL_ONLY
    ):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def phone_normalize(value, *, tenant, field: str = "phone") -> str:
    """``value`` in E.164 for ``tenant`` (its ``default_region``); a ValidationError naming
    ``field`` when it is not a phone number."""
    region = getattr(tenant, "default_region", "") or ""
    normalized = phone_e164(value, region=region)
    if normalized is None:
        message = _message(region)
        raise errors.ValidationError(
            f"{field}: {message}", fields={field: [message]}, code=ErrorCode.INVALID_PHONE
        )
    return normalized


@lru_cache(maxsize=8192)
def phone_dashed(value: str) -> str:
    """A stored phone in the b2b seed's style, ``+1-555-0456``: the country code and the
    number's groups joined by hyphens (RFC 3966's global number, without ``tel:``). A value
    that is not a phone number (stored before phones were checked) is returned unchanged."""
    if not value or not value.startswith("+"):
        return value
    try:
        number = phonenumbers.parse(value, None)
    except NumberParseException:
        return value
    if phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, PhoneNumberFormat.RFC3966).removeprefix("tel:")
    if (
        phonenumbers.is_possible_number_with_reason(number)
        != ValidationResult.IS_POSSIBLE_LOCAL_ONLY
    ):
        return value
    # a number without its area code (+1-555-0456): its national groups, no trunk prefix
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    groups = re.findall(r"\d+", national)
    if "".join(groups) != phonenumbers.national_significant_number(number):
        return value
    return f"+{number.country_code}-" + "-".join(groups)
