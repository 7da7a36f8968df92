"""Domain errors: plain Python, raised by services and selectors, translated at each dialect's edge.

Every class has a stable ``code`` and the HTTP status a dialect uses unless it says otherwise
(the peppered dialect, for instance, answers validation errors with 422).
"""

from __future__ import annotations

from tenants.error_codes import ErrorCode


class DomainError(Exception):
    code = ErrorCode.ERROR
    status = 400
    default_message = "The request could not be processed."

    def __init__(self, message: str | None = None, *, fields: dict | None = None, code=None):
        self.message = message or self.default_message
        self.fields = fields or {}
        if code:
            self.code = code
        super().__init__(self.message)


class ValidationError(DomainError):
    """Input that breaks a rule. ``fields`` maps a field name to a list of messages."""

    code = ErrorCode.VALIDATION_ERROR
    status = 400
    default_message = "The given data was invalid."


class BadRequest(DomainError):
    code = ErrorCode.BAD_REQUEST
    status = 400
    default_message = "Bad request."


class AuthenticationRequired(DomainError):
    code = ErrorCode.UNAUTHENTICATED
    status = 401
    default_message = "Authentication credentials were not provided."


class PermissionDenied(DomainError):
    code = ErrorCode.FORBIDDEN
    status = 403
    default_message = "You do not have permission to perform this action."


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND
    status = 404
    default_message = "Not found."


class Conflict(DomainError):
    code = ErrorCode.CONFLICT
    status = 409
    default_message = "The request conflicts with the current state of the resource."
