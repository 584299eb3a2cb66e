"""Account operations: password hashing, login sessions. They flush; the request commits."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.attributes import set_committed_value

from directory.accounts.models import User, UserSession
from directory.extensions import db
from directory.timeutil import utcnow


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg["ARGON2_TIME_COST"],
        memory_cost=cfg["ARGON2_MEMORY_COST"],
        parallelism=cfg["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    """An Argon2id hash of the password."""
    return _hasher().hash(password)


def check_password(user: User, password: str) -> bool:
    """Whether the password is the user's; rehashes in place when the parameters changed."""
    hasher = _hasher()
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return True


# A hash to verify against when no user has the e-mail, so timing does not reveal accounts.
_DUMMY_HASH: dict[str, str] = {}


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        key = "h"
        if key not in _DUMMY_HASH:
            _DUMMY_HASH[key] = hash_password(secrets.token_hex(8))
        try:
            _hasher().verify(_DUMMY_HASH[key], password)
        except (VerificationError, InvalidHashError):
            pass
        return None
    if not user.active or not check_password(user, password):
        return None
    return user


def normalise_email(email: str) -> str:
    """E-mail addresses compare case-insensitively and without surrounding space."""
    return (email or "").strip().lower()


def create_user(email: str, name: str, password: str) -> User:
    """Add a new user with a hashed password."""
    user = User(
        email=normalise_email(email), name=name.strip(), password_hash=hash_password(password)
    )
    db.session.add(user)
    db.session.flush()
    return user


# A staff or admin session's deadline moves on with its use at most this often: an active
# session costs one small write a minute, not one a request.
SESSION_TOUCH_INTERVAL = timedelta(minutes=1)


def has_staff_role(user: User) -> bool:
    """Whether the user works for a school or administers a municipality."""
    return user.admin_municipality_id is not None or bool(user.school_roles)


def session_deadline(user: User, created_at: datetime, now: datetime) -> datetime:
    """When a login session started at `created_at` ends unless it is used again after `now`.

    Every session ends SESSION_LIFETIME_HOURS after the login. A school staff or municipal admin
    session also ends SESSION_IDLE_MINUTES after its last use: it reaches pupils' channels or a
    municipality's accounts, and is left open on shared machines at school. An organiser's
    reaches only what the organisation publishes anyway, and writing an activity's text may
    take a long while; it keeps the lifetime alone.
    """
    config = current_app.config
    deadline = created_at + timedelta(hours=config["SESSION_LIFETIME_HOURS"])
    idle_minutes = config.get("SESSION_IDLE_MINUTES")
    if idle_minutes and has_staff_role(user):
        deadline = min(deadline, now + timedelta(minutes=idle_minutes))
    return deadline


def start_session(user: User) -> str:
    """Create a new login session for the user and return its token (a fresh one every login)."""
    now = utcnow()
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            token=token,
            user_id=user.id,
            created_at=now,
            expires_at=session_deadline(user, now, now),
        )
    )
    user.last_login_at = now
    user.current_session_token = token
    db.session.flush()
    return token


def end_session(token: str | None) -> None:
    """Delete the login session with this token, so its cookie no longer logs anyone in."""
    if token:
        db.session.execute(delete(UserSession).where(UserSession.token == token))


def end_all_sessions(user: User) -> None:
    """Delete every login session of the user (after a password change, say)."""
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))


def load_session_user(token: str) -> User | None:
    """Flask-Login's loader: the user of an unexpired login session, whose use moves a staff or
    admin session's idle deadline on (at most once a minute)."""
    row = db.session.scalar(select(UserSession).where(UserSession.token == token))
    if row is None or not row.user.active:
        return None
    now = utcnow()
    if row.expires_at <= now:
        lifetime = timedelta(hours=current_app.config["SESSION_LIFETIME_HOURS"])
        if row.expires_at < row.created_at + lifetime:  # the idle deadline passed, not the end
            from directory.accounts.sessions import forget_idle_session

            forget_idle_session()
        return None
    deadline = session_deadline(row.user, row.created_at, now)
    if abs(deadline - row.expires_at) >= SESSION_TOUCH_INTERVAL:
        _move_deadline(row, deadline, now)
    row.user.current_session_token = token
    return row.user


def _move_deadline(row: UserSession, deadline: datetime, now: datetime) -> None:
    # A page view commits nothing, yet its use must count: this one bookkeeping write is a short
    # transaction of its own, apart from the request's (which only the pipeline commits). The
    # user is loaded before any view runs (accounts.sessions), so the request has written
    # nothing yet that this could wait for.
    statement = (
        update(UserSession)
        .where(UserSession.id == row.id, UserSession.expires_at > now)
        .values(expires_at=deadline)
    )
    try:
        with db.engine.begin() as connection:
            connection.execute(statement)
    except SQLAlchemyError:  # a full disk, say: reading on is better than refusing the page
        current_app.logger.warning("Could not record the use of a login session", exc_info=True)
        return
    set_committed_value(row, "expires_at", deadline)


def register_account(data: dict, *, actor: User | None = None) -> User:
    """Create a user from the registration or invitation form and record it."""
    from directory.audit.operations import record

    if "password_hash" in data:  # hashed already, when the registration was begun
        user = User(
            email=normalise_email(data["email"]),
            name=data["name"].strip(),
            password_hash=data["password_hash"],
        )
        db.session.add(user)
        db.session.flush()
    else:
        user = create_user(data["email"], data["name"], data["password"])
    record(
        "user.register",
        user,
        actor=user,
        municipality_id=data.get("municipality_id"),
        data={"email": user.email},
    )
    return user


# --- passwords: change and reset ---------------------------------------------------------------

PASSWORD_RESET_LIFETIME = timedelta(hours=1)


def user_municipality_id(user: User) -> int | None:
    """The municipality whose audit log shows this account's events (None: none of them)."""
    if user.admin_municipality_id is not None:
        return user.admin_municipality_id
    for role in user.school_roles:
        return role.school.municipality_id
    for membership in user.memberships:
        return membership.organisation.municipality_id
    return None


def end_other_sessions(user: User, keep_token: str | None) -> None:
    """Delete every login session of the user except the one with `keep_token`."""
    statement = delete(UserSession).where(UserSession.user_id == user.id)
    if keep_token:
        statement = statement.where(UserSession.token != keep_token)
    db.session.execute(statement)


def _set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()


def change_password(user: User, data: dict, *, actor: User) -> None:
    """Set a new password (the view checked the current one); every other session ends."""
    from directory.audit.operations import record

    _set_password(user, data["password"])
    end_other_sessions(user, user.current_session_token)
    record("user.change_password", user, actor=actor, municipality_id=user_municipality_id(user))
    db.session.flush()


def create_password_reset(email: str) -> tuple[User | None, str]:
    """A reset link's token for the active account with this e-mail.

    For an unknown or inactive address the same work is done (a token is made and hashed) but
    nothing is stored, and the user is None: the caller answers alike either way.
    """
    from directory.accounts.models import PasswordReset
    from directory.accounts.tokens import hash_token, new_token

    token = new_token()
    token_hash = hash_token(token)
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or not user.active:
        return None, token
    db.session.add(
        PasswordReset(
            user_id=user.id,
            token_hash=token_hash,
            expires_at=utcnow() + PASSWORD_RESET_LIFETIME,
        )
    )
    db.session.flush()
    return user, token


def find_password_reset(token: str):
    """The reset with this token and whether it can still be used: (reset, 'ok'), or (reset or
    None, 'unknown' | 'used' | 'expired' | 'inactive')."""
    from directory.accounts.models import PasswordReset
    from directory.accounts.tokens import hash_token, plausible_token

    if not plausible_token(token):
        return None, "unknown"
    reset = db.session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == hash_token(token))
    )
    if reset is None:
        return None, "unknown"
    if reset.used_at is not None:
        return reset, "used"
    if reset.expires_at <= utcnow():
        return reset, "expired"
    if not reset.user.active:
        return reset, "inactive"
    return reset, "ok"


def reset_password(reset, data: dict) -> User:
    """Use a reset link: set the password, spend this and every other open link of the account,
    end every session of the account, and record it."""
    from directory.accounts.models import PasswordReset
    from directory.audit.operations import record

    user = reset.user
    now = utcnow()
    _set_password(user, data["password"])
    db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    end_all_sessions(user)
    record(
        "user.reset_password",
        user,
        actor=user,
        municipality_id=user_municipality_id(user),
        data={"reset_id": reset.id},
    )
    db.session.flush()
    return user


# --- registration, completed from an e-mailed link ---------------------------------------------

REGISTRATION_LIFETIME = timedelta(hours=24)
# Spent and expired registrations are deleted a week after they expire; until then their link's
# page can say why it no longer works.
REGISTRATION_KEPT = timedelta(days=7)


def email_taken(email: str) -> bool:
    """Whether an account has this e-mail address."""
    query = select(User.id).where(User.email == normalise_email(email))
    return db.session.scalar(query) is not None


def start_registration(data: dict) -> tuple[User | None, str]:
    """Begin registering an account and an organisation, alike whether the e-mail has an account.

    For a new address, a pending registration is stored that the link with the returned token
    completes. For an address with an account nothing is stored and the account is returned, for
    its owner to be told by e-mail; the form's organisation is not kept (the owner registers it
    from the account). Both hash the password, so the time taken does not tell them apart.
    """
    from directory.accounts.models import PendingRegistration
    from directory.accounts.tokens import hash_token, new_token

    token = new_token()
    password_hash = hash_password(data["password"])
    email = normalise_email(data["email"])
    now = utcnow()
    db.session.execute(
        delete(PendingRegistration).where(PendingRegistration.expires_at < now - REGISTRATION_KEPT)
    )
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None:
        return user, token
    db.session.add(
        PendingRegistration(
            token_hash=hash_token(token),
            email=email,
            name=data["name"].strip(),
            password_hash=password_hash,
            municipality_id=data["municipality_id"],
            organisation=data["organisation"],
            created_at=now,
            expires_at=now + REGISTRATION_LIFETIME,
        )
    )
    db.session.flush()
    return None, token


def find_registration(token: str):
    """The pending registration of a link and whether it can be completed: (registration, 'ok'),
    or (registration or None, 'unknown' | 'used' | 'expired')."""
    from directory.accounts.models import PendingRegistration
    from directory.accounts.tokens import hash_token, plausible_token

    if not plausible_token(token):
        return None, "unknown"
    pending = db.session.scalar(
        select(PendingRegistration).where(PendingRegistration.token_hash == hash_token(token))
    )
    if pending is None:
        return None, "unknown"
    if pending.used_at is not None:
        return pending, "used"
    if pending.expires_at <= utcnow():
        return pending, "expired"
    return pending, "ok"


def complete_registration(pending) -> User:
    """Create the account of a followed registration link and spend the link (the caller
    registers the organisation); DomainError when the address got an account meanwhile."""
    from directory.errors import DomainError
    from directory.i18n import gettext as _

    if email_taken(pending.email):
        raise DomainError(
            _("Det finnes allerede en konto med denne e-postadressen. Logg inn i stedet."), 409
        )
    user = register_account(
        {
            "email": pending.email,
            "name": pending.name,
            "password_hash": pending.password_hash,
            "municipality_id": pending.municipality_id,
        }
    )
    pending.used_at = utcnow()
    return user
