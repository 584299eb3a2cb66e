"""Uploaded files kept in the database, where every host of one installation finds them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from directory.dbtypes import UTCDateTime
from directory.extensions import db


class StoredFile(db.Model):
    """One uploaded file (an image, its card rendition, a flyer) under its server-made name.

    The content is loaded only when read, so that a 304 or a size check costs no transfer.
    """

    __tablename__ = "stored_file"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))  # hex; the served ETag
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
