"""The index is read straight from its mapped segment file (whoosh_backend._MappedPart): Whoosh
2.7.5 copied every part of it into a BytesIO of each process's own."""

from __future__ import annotations

import io
import os

import pytest
from whoosh import fields, index

from directory.search.whoosh_backend import _MappedPart, _MappedReader

DATA = b"first line\nsecond line\n\x00\x01binary\xff no newline at the end"

# Each step: (method, arguments); the mapped reader must answer every one as BytesIO does.
STEPS = [
    ("read", (5,)),
    ("tell", ()),
    ("readline", ()),
    ("readline", (3,)),
    ("read", (-1,)),
    ("read", (4,)),
    ("seek", (0,)),
    ("read", (None,)),
    ("seek", (-7, os.SEEK_END)),
    ("readline", ()),
    ("seek", (3, os.SEEK_CUR)),
    ("read", (1,)),
    ("seek", (len(DATA) + 10,)),
    ("read", (4,)),
    ("readline", ()),
    ("tell", ()),
    ("seek", (11,)),
    ("readline", (-1,)),
    ("read", (0,)),
]


def test_the_mapped_reader_reads_seeks_and_tells_as_bytesio_does():
    mapped = _MappedReader(memoryview(DATA))
    copied = io.BytesIO(DATA)

    for method, arguments in STEPS:
        assert getattr(mapped, method)(*arguments) == getattr(copied, method)(*arguments), (
            method,
            arguments,
        )


def test_a_negative_seek_is_refused_as_bytesio_refuses_it():
    with pytest.raises(ValueError):
        io.BytesIO(DATA).seek(-1)
    with pytest.raises(ValueError):
        _MappedReader(memoryview(DATA)).seek(-1)


def test_a_search_reads_every_part_of_the_segment_from_the_mapping(tmp_path, monkeypatch):
    schema = fields.Schema(id=fields.ID(stored=True), body=fields.TEXT)
    ix = index.create_in(str(tmp_path), schema)
    with ix.writer() as writer:
        for n in range(30):
            writer.add_document(id=str(n), body="fotball" if n % 2 else "sjakk")
    opened = []
    original = _MappedPart.__init__

    def recording(self, *args, **kwargs):
        original(self, *args, **kwargs)
        opened.append(self)

    monkeypatch.setattr(_MappedPart, "__init__", recording)
    with ix.searcher() as searcher:
        found = sorted(hit["id"] for hit in searcher.find("body", "fotball", limit=None))

    assert found == sorted(str(n) for n in range(1, 30, 2))
    assert opened  # the postings, terms, stored fields: all from the mapped file
    assert all(isinstance(part.file, _MappedReader) for part in opened)
