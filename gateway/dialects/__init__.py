"""The dialect registries: which wire format each route serves and each provider type speaks.

Adding a dialect is adding a module and a line here.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.dialects.base import ClientDialect, ProviderDialect
from gateway.dialects.cohere import CohereProvider, V1Client
from gateway.dialects.jina import JINA_CLIENT, JinaProvider
from gateway.dialects.siliconflow import SiliconFlowProvider

#: Client dialects by route path.
CLIENT_ROUTES: Mapping[str, ClientDialect] = {
    "/v1/rerank": V1Client(),
    "/jina/v1/rerank": JINA_CLIENT,
}

#: Provider dialects by config `type`.
PROVIDER_DIALECTS: Mapping[str, ProviderDialect] = {
    d.type: d for d in (CohereProvider(), JinaProvider(), SiliconFlowProvider())
}

#: Every config `type` a provider may have; `local` answers in process.
PROVIDER_TYPES = frozenset(PROVIDER_DIALECTS) | {"local"}

__all__ = ["CLIENT_ROUTES", "PROVIDER_DIALECTS", "PROVIDER_TYPES", "ClientDialect", "ProviderDialect"]
