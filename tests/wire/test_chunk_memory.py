"""The chunked decoder: memory follows the body's size, not its number of chunks."""

from __future__ import annotations

import tracemalloc

from gateway.providers.wire.parse import Chunked


def test_one_byte_chunks_cost_about_their_bytes() -> None:
    """A body sent as 100,000 one-byte chunks is held in memory of about its size, not a Python object per chunk."""
    count = 100_000
    wire = b"1\r\nx\r\n" * count + b"0\r\n\r\n"
    decoder = Chunked(cap=1024 * 1024)
    tracemalloc.start()
    try:
        assert decoder.feed(wire)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert decoder.size == count
    # The wire bytes are copied into the decoder's buffer once; one object per chunk would add ~40 bytes each.
    assert peak < len(wire) + 8 * count
