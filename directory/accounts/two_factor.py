"""Two-step login: TOTP (RFC 6238) codes from an authenticator app and single-use recovery codes.

Municipal admins and school admins must have the second step; everyone else may turn it on.
The secret is stored when enrolment starts and the factor is on once a first code confirmed it.
Every accepted time step is remembered, so a code seen over someone's shoulder cannot be used
again. Recovery codes are stored as SHA-256 hashes (about 50 random bits each, and the second
step is throttled, so an unsalted hash is enough). Operations flush and record; the request
commits. Neither secrets nor codes ever go into the audit data.
"""

from __future__ import annotations

import hmac
import re
import secrets

import pyotp
from sqlalchemy import delete, select

from directory.accounts.models import RecoveryCode, User
from directory.accounts.operations import check_password, end_all_sessions
from directory.accounts.tokens import hash_token
from directory.extensions import db
from directory.timeutil import utcnow

ISSUER = "Aktivitetskatalogen"
STEP_SECONDS = 30
DIGITS = 6
# A code from the step before or after the server's clock is accepted (clock drift, slow typing).
VALID_WINDOW = 1
RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: a code copied from paper must not be ambiguous.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_LENGTH = 10


# --- who needs it -------------------------------------------------------------------------------


def two_step_required(user: User) -> bool:
    """Municipal admins and school admins must log in with a second step."""
    if user.admin_municipality_id is not None:
        return True
    return any(role.role == "admin" for role in user.school_roles)


def two_step_enabled(user: User) -> bool:
    """Whether the user's second step is on (enrolment confirmed)."""
    return user.totp_enabled_at is not None and bool(user.totp_secret)


def needs_enrolment(user: User) -> bool:
    """Whether the user must enrol a second step before doing anything else."""
    return not two_step_enabled(user) and two_step_required(user)


def _home_municipality(user: User) -> int | None:
    """The municipality whose audit log shows the user's own security acts."""
    if user.admin_municipality_id is not None:
        return user.admin_municipality_id
    for role in user.school_roles:
        return role.school.municipality_id
    return None


# --- codes --------------------------------------------------------------------------------------


def current_step() -> int:
    """The TOTP time step of now."""
    return int(utcnow().timestamp()) // STEP_SECONDS


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)


def looks_like_totp(code: str) -> bool:
    """Whether the text is a six-digit code (rather than a recovery code)."""
    return bool(re.fullmatch(r"[0-9]{6}", code))


def normalise_code(code: str | None) -> str:
    """A code as typed, without spaces and hyphens, in lower case."""
    return re.sub(r"[\s\-]", "", code or "").lower()


def _matching_step(secret: str, code: str) -> int | None:
    """The time step within the window whose code this is, or None."""
    totp = _totp(secret)
    now = current_step()
    for step in range(now - VALID_WINDOW, now + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _accept_totp(user: User, code: str) -> bool:
    """Whether the code is valid now and its step was not used before; remembers the step."""
    if not user.totp_secret or not looks_like_totp(code):
        return False
    step = _matching_step(user.totp_secret, code)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


def provisioning_uri(user: User) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return _totp(user.totp_secret or "").provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_code_svg(uri: str, title: str) -> str:
    """The URI as an inline SVG QR code (no script, no image request)."""
    import segno  # only the enrolment page draws one

    return segno.make(uri, error="m").svg_inline(
        scale=4, border=4, dark="#000", light="#fff", title=title, svgclass="qr-code"
    )


def grouped_secret(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def _replace_recovery_codes(user: User) -> list[str]:
    """Delete the user's recovery codes and store ten new ones; the plain codes are returned
    to be shown once."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    for code in codes:
        db.session.add(RecoveryCode(user_id=user.id, code_hash=hash_token(normalise_code(code))))
    db.session.flush()
    db.session.expire(user, ["recovery_codes"])
    return codes


def unused_recovery_codes(user: User) -> int:
    """How many of the user's recovery codes are left."""
    return sum(1 for code in user.recovery_codes if code.used_at is None)


# --- operations ---------------------------------------------------------------------------------


def _record(action: str, user: User, *, actor: User | None, municipality_id=None, **data) -> None:
    from directory.audit.operations import record

    record(
        action,
        user,
        actor=actor,
        municipality_id=municipality_id if municipality_id else _home_municipality(user),
        data={"email": user.email, **data},
    )


def start_enrolment(user: User, *, actor: User) -> None:
    """Give the user a new secret to scan; the factor stays off until a code confirms it."""
    if two_step_enabled(user):
        raise ValueError("the second step is already on")
    user.totp_secret = pyotp.random_base32()
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.flush()


def confirm_enrolment(user: User, code: str, *, actor: User) -> list[str] | None:
    """Turn the second step on when the code matches the new secret; returns the ten recovery
    codes to show once, or None when the code was wrong."""
    if two_step_enabled(user) or not user.totp_secret:
        return None
    if not _accept_totp(user, normalise_code(code)):
        return None
    user.totp_enabled_at = utcnow()
    codes = _replace_recovery_codes(user)
    _record("user.enable_two_step", user, actor=actor)
    return codes


def verify_second_step(user: User, code: str) -> str | None:
    """Check a login's second step: 'totp' or 'recovery' for the kind of code accepted, None
    when it was wrong, replayed or already used. A used recovery code is marked and audited."""
    if not two_step_enabled(user):
        return None
    code = normalise_code(code)
    if looks_like_totp(code):
        return "totp" if _accept_totp(user, code) else None
    if not code or len(code) > 40:
        return None
    row = db.session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == hash_token(code),
            RecoveryCode.used_at.is_(None),
        )
    )
    if row is None:
        return None
    row.used_at = utcnow()
    db.session.flush()
    _record("user.use_recovery_code", user, actor=user, remaining=unused_recovery_codes(user))
    return "recovery"


def confirm_identity(user: User, *, password: str | None, code: str | None) -> bool:
    """Whether the signed-in user proved it is them: their password, or a current code."""
    if password and check_password(user, password):
        return True
    return bool(code) and two_step_enabled(user) and _accept_totp(user, normalise_code(code))


def regenerate_recovery_codes(user: User, *, actor: User) -> list[str]:
    """Replace the user's recovery codes with ten new ones (the old stop working)."""
    if not two_step_enabled(user):
        raise ValueError("the second step is off")
    codes = _replace_recovery_codes(user)
    _record("user.regenerate_recovery_codes", user, actor=actor)
    return codes


def _clear(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.flush()
    db.session.expire(user, ["recovery_codes"])


def disable_two_step(user: User, *, actor: User) -> None:
    """Turn off a second step the user chose (never a required one)."""
    if two_step_required(user):
        raise ValueError("the second step is required for this user")
    _clear(user)
    _record("user.disable_two_step", user, actor=actor)


def reset_two_step(account: User, *, actor: User | None) -> None:
    """The municipal admin's reset (or the operator's, actor None): the factor and recovery
    codes are gone and the account's sessions end; a user who must have the second step enrols
    again at the next login."""
    was_on = two_step_enabled(account)
    _clear(account)
    end_all_sessions(account)
    _record(
        "user.reset_two_step",
        account,
        actor=actor,
        municipality_id=actor.admin_municipality_id if actor is not None else None,
        before={"two_step": was_on},
        after={"two_step": False},
    )
