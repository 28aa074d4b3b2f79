"""One GeoSPARQL endpoint over several sources (local stores, remote SPARQL endpoints), the semantic
catalogue and LUCAS validation; see docs/federation.md.

>>> from federation import Federation, StoreSource, EndpointSource, load_federation
"""

from federation.config import load_federation
from federation.description import Description, describe
from federation.errors import FederationError, ReplyTooLarge, SourceTimeout, UnknownSource
from federation.federation import FederatedResult, Federation, Report
from federation.sources import EndpointSource, Source, StoreSource

__all__ = [
    "Description", "EndpointSource", "FederatedResult", "Federation", "FederationError", "ReplyTooLarge", "Report",
    "Source", "SourceTimeout", "StoreSource", "UnknownSource", "describe", "load_federation",
]
