"""The one error hierarchy both front doors map: aiogram to chat replies, FastAPI to JSON."""

from __future__ import annotations


class SpeakUpError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "error"


class NotFound(SpeakUpError):
    """The thing asked for does not exist, or the caller may not know that it does."""

    code = "not_found"


class Forbidden(SpeakUpError):
    """The caller is known but may not do this."""

    code = "forbidden"


class AuthenticationFailed(SpeakUpError):
    """Wrong credentials; never says which part was wrong or whether the account exists."""

    code = "authentication_failed"


class InvalidTransition(SpeakUpError):
    """A case status change the lifecycle does not allow from the current status."""

    code = "invalid_transition"

    def __init__(
        self,
        current: str,
        requested: str,
        allowed: list[str],
        via: dict[str, str] | None = None,
        message: str | None = None,
    ) -> None:
        super().__init__(message or f"cannot go from {current} to {requested}")
        self.current = current
        self.requested = requested
        self.allowed = allowed
        # For each allowed status, the request that makes the move (see cases.lifecycle.Step).
        self.via = via


class InvalidInput(SpeakUpError):
    """Input the domain refuses, with a reason that is safe to show."""

    code = "invalid_input"


class DecryptionError(SpeakUpError):
    """A ciphertext did not open: wrong key, tampered bytes, or bound to another place."""

    code = "decryption_failed"


class Conflict(SpeakUpError):
    """The request clashes with existing state (a duplicate name, a key already granted)."""

    code = "conflict"


class TooManyAttempts(SpeakUpError):
    """Too many failed logins for this username; wait `retry_after` seconds."""

    code = "too_many_attempts"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed attempts; try again in {retry_after} s")
        self.retry_after = retry_after


class ReplyLimitReached(SpeakUpError):
    """The case has taken as many replies today as one day allows; `limit` says how many."""

    code = "reply_limit"

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} replies to one case a day")
        self.limit = limit


class EnrolmentRequired(SpeakUpError):
    """The officer must enrol a TOTP authenticator before doing anything else."""

    code = "totp_enrolment_required"


class KeyPinMismatch(SpeakUpError):
    """The queue public keys in the database are not the ones pinned in the settings."""

    code = "key_pin_mismatch"


class OfficerNotActivated(Conflict):
    """The officer has not yet chosen their own password and key, so nothing may be granted."""

    code = "officer_not_activated"


class FingerprintMismatch(Conflict):
    """The key fingerprint given for a grant is not the one of the officer's current key."""

    code = "fingerprint_mismatch"
