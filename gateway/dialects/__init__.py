"""The dialect registries: which wire format each route serves and each provider type speaks.

Adding a dialect is adding a module and a line here.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.dialects.base import ClientDialect, ProviderDialect
from gateway.dialects.cohere import CohereProvider, V1Client
from gateway.dialects.cohere_v2 import CohereV2Provider, V2Client
from gateway.dialects.dashscope import DashScopeProvider
from gateway.dialects.infinity import InfinityProvider
from gateway.dialects.jina import JINA_CLIENT, JinaProvider
from gateway.dialects.mixedbread import MixedbreadProvider
from gateway.dialects.nvidia import NimClient, NimProvider
from gateway.dialects.pinecone import PineconeProvider
from gateway.dialects.siliconflow import SiliconFlowProvider
from gateway.dialects.sniff import BodySniffer, pick
from gateway.dialects.tei import TeiClient, TeiProvider
from gateway.dialects.together import TogetherProvider
from gateway.dialects.vllm import VllmClient, VllmProvider
from gateway.dialects.voyage import VoyageClient, VoyageProvider

VOYAGE_CLIENT = VoyageClient()

#: Client dialects by route path.
CLIENT_ROUTES: Mapping[str, ClientDialect] = {
    # Cohere v1 and Jina clients; a voyageai SDK pointed at <gateway>/v1 sends `top_k` and `truncation`.
    "/v1/rerank": BodySniffer(
        name="cohere", default=V1Client(), by_key=(("top_k", VOYAGE_CLIENT), ("truncation", VOYAGE_CLIENT))
    ),
    "/v2/rerank": V2Client(),
    "/jina/v1/rerank": JINA_CLIENT,
    "/voyage/v1/rerank": VOYAGE_CLIENT,
    # TEI sends `texts`, vLLM and Infinity send `documents`, on the same path.
    "/rerank": BodySniffer(name="tei", default=TeiClient(), by_key=(("documents", VllmClient()),)),
    "/v1/ranking": NimClient(),
}

#: Provider dialects by config `type`.
PROVIDER_DIALECTS: Mapping[str, ProviderDialect] = {
    d.type: d
    for d in (
        CohereProvider(),
        CohereV2Provider(),
        JinaProvider(),
        VoyageProvider(),
        SiliconFlowProvider(),
        VllmProvider(),
        TeiProvider(),
        InfinityProvider(),
        TogetherProvider(),
        MixedbreadProvider(),
        NimProvider(),
        DashScopeProvider(),
        PineconeProvider(),
    )
}

#: Where a client dialect's request carries the documents and the query, for errors found after
#: parsing (size limits); dialects not listed use `$.documents` and `$.query`.
WIRE_PATHS: Mapping[str, Mapping[str, str]] = {
    "tei": {"documents": "$.texts", "query": "$.query"},
    "nvidia": {"documents": "$.passages", "query": "$.query.text"},
}

#: Every config `type` a provider may have; `local` answers in process.
PROVIDER_TYPES = frozenset(PROVIDER_DIALECTS) | {"local"}

__all__ = [
    "CLIENT_ROUTES",
    "PROVIDER_DIALECTS",
    "PROVIDER_TYPES",
    "WIRE_PATHS",
    "ClientDialect",
    "ProviderDialect",
    "pick",
]
