"""The outbound side: what the router calls. An HTTP provider or the in-process local ranker."""

from __future__ import annotations

from typing import Protocol

from gateway.model import Ranking, RerankRequest


class Provider(Protocol):
    """One upstream as the router sees it."""

    @property
    def name(self) -> str:
        """The provider's name in the config."""

    async def rerank(self, request: RerankRequest, *, model: str, timeout: float) -> Ranking:
        """Score every document of `request` (indices into its list) within `timeout` seconds."""

    async def start(self) -> None:
        """Open pooled resources (sessions); called once before traffic."""

    async def close(self) -> None:
        """Release pooled resources; called once after traffic."""
