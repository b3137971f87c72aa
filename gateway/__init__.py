"""Rerank Gateway: one rerank API in front of many rerank providers."""

__version__ = "0.1.0"
