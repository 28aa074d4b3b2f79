"""The federation's configuration: a TOML file naming its sources.

```toml
timeout = 60                     # seconds for a whole query (default 60)
descriptions = "sources.json"    # optional: descriptions made by `eekg federation describe` (until then, made at first use)

[[source]]
name = "oxigraph"                # names a source in errors, descriptions and ?source=
url = "http://127.0.0.1:7878/query"
api_key_env = "OXIGRAPH_KEY"     # optional: the environment variable holding the (Bearer) key it expects
username = "reader"              # optional: HTTP basic credentials, the password from an environment variable
password_env = "OXIGRAPH_PASSWORD"
timeout = 30                     # optional, seconds per sub-query
max_reply_bytes = 268435456      # optional, per sub-query reply
geosparql = "topology"           # optional: which geof: functions it evaluates ("full", "topology", "none");
                                 # probed with known answers when not given
partial = true                   # optional: when it fails or times out, answer without it, flagged as partial

[[source]]
name = "local"
store = "self"                   # the serving process's own store, or a store directory
```

Keys are read from the environment, never from the file, so the file can be shared.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from federation.description import load_descriptions
from federation.errors import ConfigurationError
from federation.federation import Federation
from federation.sources import DEFAULT_MAX_REPLY_BYTES, DEFAULT_TIMEOUT, EndpointSource, Source, StoreSource
from kg.store import Store

_TOP = {"timeout", "descriptions", "workers", "source"}
_SOURCE = {"name", "url", "store", "api_key_env", "username", "password_env", "timeout", "max_reply_bytes", "geosparql",
           "partial"}
_GEOSPARQL = ("full", "topology", "none")


def load_federation(path: str | Path, own_store: Store | None = None) -> Federation:
    """The federation a configuration file describes; ``own_store`` is the source ``store = "self"``."""
    path = Path(path)
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except OSError as error:
        raise ConfigurationError(f"Cannot read the federation's configuration {path}: {error.strerror or error}.") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"The federation's configuration {path} is not valid TOML: {error}.") from None
    _no_unknown(data, _TOP, f"{path}")
    entries = data.get("source", [])
    if not isinstance(entries, list) or not entries:
        raise ConfigurationError(f"{path} names no sources; add a [[source]] table with a name and a url or store.")
    sources = [_source(entry, i, path, own_store) for i, entry in enumerate(entries, 1)]
    descriptions = None
    if data.get("descriptions") and (path.parent / data["descriptions"]).exists():  # else made at first use
        descriptions = load_descriptions(path.parent / data["descriptions"])
    return Federation(sources, descriptions, timeout=float(data.get("timeout", 60)), workers=int(data.get("workers", 8)))


def _source(entry: dict, number: int, path: Path, own_store: Store | None) -> Source:
    where = f"{path}, source {number}"
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
        raise ConfigurationError(f"{where} has no name; give every [[source]] a name = \"...\".")
    where += f" ({entry['name']!r})"
    _no_unknown(entry, _SOURCE, where)
    if ("url" in entry) == ("store" in entry):
        raise ConfigurationError(f"{where} needs exactly one of url = \"http://.../sparql\" or store = \"self\" | \"DIR\".")
    limit = int(entry.get("max_reply_bytes", DEFAULT_MAX_REPLY_BYTES))
    partial = entry.get("partial", False)
    if not isinstance(partial, bool):
        raise ConfigurationError(f"{where} has partial = {partial!r}; write partial = true or partial = false.")
    if entry.get("geosparql", "full") not in _GEOSPARQL:
        raise ConfigurationError(f"{where} has geosparql = {entry['geosparql']!r}; it is one of {list(_GEOSPARQL)} "
                                 "(every geof: function, geof:sfIntersects on WKT only, or none), or leave it out to probe.")
    if "store" in entry:
        if entry["store"] == "self":
            if own_store is None:
                raise ConfigurationError(f"{where} is store = \"self\", but there is no serving store here; name a directory.")
            return StoreSource(entry["name"], own_store, max_reply_bytes=limit, partial=partial)
        from kg.embedded import EmbeddedStore

        return StoreSource(entry["name"], EmbeddedStore(path.parent / entry["store"]), max_reply_bytes=limit, partial=partial)
    key = None
    if "api_key_env" in entry:
        key = os.environ.get(entry["api_key_env"])
        if not key:
            raise ConfigurationError(f"{where} takes its API key from ${entry['api_key_env']}, which is not set.")
    basic = None
    if "username" in entry or "password_env" in entry:
        password = os.environ.get(entry.get("password_env", ""))
        if not entry.get("username") or not password:
            raise ConfigurationError(f"{where} needs both username = \"...\" and password_env = \"VARIABLE\" set in the "
                                     "environment for HTTP basic credentials.")
        basic = (entry["username"], password)
    return EndpointSource(entry["name"], entry["url"], api_key=key, timeout=float(entry.get("timeout", DEFAULT_TIMEOUT)),
                          max_reply_bytes=limit, partial=partial, geosparql=entry.get("geosparql"), basic_auth=basic)


def _no_unknown(table: dict, known: set[str], where: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigurationError(f"{where} has unknown settings {unknown}; known ones are {sorted(known)}.")
