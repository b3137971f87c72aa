"""Fake upstream rerank servers: real aiohttp servers speaking real dialects, scriptable to fail."""
