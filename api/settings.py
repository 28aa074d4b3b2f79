"""The service's configuration: one class, read from ``EEKG_*`` variables and an optional TOML file.

Priority, highest first: values passed to :meth:`Settings.load`, environment variables
(``EEKG_QUERY_TIMEOUT=5``), the TOML file (named by ``config_file`` or ``EEKG_CONFIG``), defaults.
Lists (keys, CORS origins) are comma-separated in the environment and arrays in TOML::

    # eekg.toml
    store = "/var/lib/eekg"
    writer_keys = ["change-me"]
    query_timeout = 60

>>> Settings.load(writer_keys="a, b").writer_keys
['a', 'b']
"""

from __future__ import annotations

import os
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from kg.errors import GeoKGError

MiB = 1 << 20
_config_file: ContextVar[Path | None] = ContextVar("eekg_config_file", default=None)

KeyList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    """Everything the HTTP service can be configured with."""

    model_config = SettingsConfigDict(env_prefix="EEKG_", extra="forbid")

    store: Path | None = Field(None, description="Directory of the embedded store; in memory when unset.")
    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8000, ge=0, le=65535, description="Port to listen on.")
    writer_keys: KeyList = Field(
        default_factory=list, repr=False, description="API keys that may write (SPARQL Update, Graph Store PUT/POST/DELETE)."
    )
    reader_keys: KeyList = Field(
        default_factory=list, repr=False, description="API keys that may read; when empty, reading is open to everyone."
    )
    query_timeout: float = Field(30.0, gt=0, description="Seconds a query may run before it is stopped (503).")
    max_request_bytes: int = Field(16 * MiB, gt=0, description="Largest request body accepted (413 above).")
    max_query_string_bytes: int = Field(
        8192, gt=0, description="Longest URL query string accepted (414 above); longer queries go in a POST body."
    )
    cors_origins: KeyList = Field(default_factory=list, description="Origins allowed by CORS ('*' for any).")
    store_backend: Literal["embedded", "spark"] = Field(
        "embedded", description="The store behind the API: the embedded store (setting store) or the Spark store (spark_warehouse)."
    )
    spark_warehouse: Path | None = Field(None, description="Parquet warehouse of the Spark store (docs/spark.md).")
    spark_master: str | None = Field(None, description="Spark master URL: local[N], spark://HOST:7077, yarn, k8s://... (default local[*]).")
    federation: Path | None = Field(
        None, description="TOML file naming the federation's sources (docs/federation.md); /sparql then answers queries over them."
    )

    @field_validator("writer_keys", "reader_keys", "cors_origins", mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def reading_is_open(self) -> bool:
        """Whether queries need no key."""
        return not self.reader_keys

    @classmethod
    def load(cls, config_file: str | Path | None = None, **values: Any) -> Settings:
        """Settings from ``values``, the environment and the TOML file ``config_file`` or ``$EEKG_CONFIG``."""
        path = config_file or os.environ.get("EEKG_CONFIG") or None
        token = _config_file.set(Path(path) if path else None)
        try:
            return cls(**values)
        finally:
            _config_file.reset(token)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, _TomlFile(settings_cls)


class _TomlFile(PydanticBaseSettingsSource):
    """The TOML file chosen by :meth:`Settings.load`, as the lowest-priority source."""

    def get_field_value(self, field, field_name):  # required by the base class; __call__ does the work
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = _config_file.get()
        if path is None:
            return {}
        try:
            with open(path, "rb") as file:
                data = tomllib.load(file)
        except OSError as error:
            raise GeoKGError(f"Cannot read the configuration file {path}: {error.strerror or error}.") from None
        except tomllib.TOMLDecodeError as error:
            raise GeoKGError(f"The configuration file {path} is not valid TOML: {error}.") from None
        data = data.get("eekg", data)  # a [eekg] table or top-level keys
        unknown = sorted(set(data) - set(Settings.model_fields))
        if unknown:
            raise GeoKGError(
                f"The configuration file {path} has unknown settings {unknown}; "
                f"known ones are {sorted(Settings.model_fields)}."
            )
        return data
