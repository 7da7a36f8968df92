"""Date formats of the back-office (settings.FORMAT_MODULE_PATH): a date and time is always
shown with its time zone named ("2026-11-29 17:12 UTC"), in change lists and read-only fields
alike; Django's English formats fill in the rest."""

DATETIME_FORMAT = "Y-m-d H:i T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
