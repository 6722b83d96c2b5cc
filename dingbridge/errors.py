"""The exceptions dingbridge raises towards users, each carrying its HTTP status.

::

    DingbridgeError (500)
    ├── BadRequest (400)
    │   └── ValidationFailed (400): ``problems`` maps a field name to what is wrong with it
    ├── Unauthorized (401)
    ├── Forbidden (403)
    │   └── CsrfFailed (403)
    ├── NotFound (404)
    ├── Conflict (409)
    ├── PayloadTooLarge (413)
    ├── TooManyRequests (429): ``retry_after`` seconds
    └── ServiceUnavailable (503)

The message is shown to the user as is: write it for an admin or an employee, never put a
secret or a stack trace in it. ``web.errors`` renders them as HTML or JSON.
"""

from __future__ import annotations

from collections.abc import Mapping

from dingbridge.i18n import Message


class DingbridgeError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.default_message())
        self.message = message or self.default_message()

    def default_message(self) -> str:
        return Message("Something went wrong on the server.")


class BadRequest(DingbridgeError):
    status = 400
    code = "bad_request"

    def default_message(self) -> str:
        return Message("The request is not valid.")


class ValidationFailed(BadRequest):
    code = "validation_failed"

    def __init__(self, problems: Mapping[str, str], message: str = "") -> None:
        self.problems = dict(problems)
        super().__init__(message or "; ".join(f"{k}: {v}" for k, v in self.problems.items()))


class Unauthorized(DingbridgeError):
    status = 401
    code = "unauthorized"

    def default_message(self) -> str:
        return Message("Please sign in.")


class Forbidden(DingbridgeError):
    status = 403
    code = "forbidden"

    def default_message(self) -> str:
        return Message("You may not do this.")


class CsrfFailed(Forbidden):
    code = "csrf_failed"

    def default_message(self) -> str:
        return Message(
            "The form has expired or did not come from this site. Reload the page and retry."
        )


class NotFound(DingbridgeError):
    status = 404
    code = "not_found"

    def default_message(self) -> str:
        return Message("Not found.")


class Conflict(DingbridgeError):
    status = 409
    code = "conflict"

    def default_message(self) -> str:
        return Message("This conflicts with existing data.")


class PayloadTooLarge(DingbridgeError):
    status = 413
    code = "payload_too_large"

    def default_message(self) -> str:
        return Message("The upload is too large.")


class TooManyRequests(DingbridgeError):
    status = 429
    code = "too_many_requests"

    def __init__(self, message: str = "", retry_after: float = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def default_message(self) -> str:
        return Message("Too many attempts. Wait a moment and retry.")


class ServiceUnavailable(DingbridgeError):
    status = 503
    code = "unavailable"

    def default_message(self) -> str:
        return Message("The service is not ready.")
