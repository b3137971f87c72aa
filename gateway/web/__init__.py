"""The HTTP edge: the only layer that imports aiohttp.web."""
