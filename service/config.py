"""Settings from the environment (prefix MBC_CDS_), via pydantic-settings.

Every setting is documented in the README's configuration table; keep the two
in step.
"""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from typing_extensions import Annotated


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MBC_CDS_", extra="ignore")

    # Client authentication (CDS Hooks "Trusting CDS Clients"): on by default.
    auth: Literal["on", "off"] = "on"
    clients_file: str | None = None  # YAML/JSON list of trusted clients
    public_url: str | None = None  # external base URL, for the JWT `aud` check
    jwt_algorithms: Annotated[list[str], NoDecode] = ["ES384", "RS384"]
    jwt_leeway_seconds: int = 60

    # Which FHIR servers may be called when auth is off (comma-separated).
    fhir_servers: Annotated[list[str], NoDecode] = []
    allow_http_fhir: bool = False

    # Embedded demo patients answer hook calls that carry neither prefetch nor fhirServer.
    demo: bool = False

    database_url: str = "sqlite:///mbc-cds-feedback.sqlite"
    cors_origins: Annotated[list[str], NoDecode] = ["*"]
    log_level: str = "INFO"

    # Bounds on what a client or a FHIR server can make us do.
    max_request_bytes: int = 5 * 1024 * 1024
    max_json_depth: int = 64
    fhir_connect_timeout: float = 3.0
    fhir_read_timeout: float = 10.0
    fhir_max_pages: int = 20
    fhir_max_response_bytes: int = 20 * 1024 * 1024
    fhir_max_resources: int = 5000
    fhir_page_size: int = 200
    hook_time_budget_seconds: float = 20.0
    fhir_max_workers: int = 8
    # Fold the patient read and the Condition/Medication*/Procedure searches
    # into one Patient search with _revinclude on servers whose
    # CapabilityStatement declares those _revincludes (service.gather).
    fhir_revinclude: bool = True

    # Allocations between two young-generation garbage collections in a served
    # worker (production_app); None = Python's default (700). See production_app.
    gc_gen0_threshold: int | None = None
    # Keep the cyclic collector from running while a request is handled (it
    # runs between requests instead); see production_app.
    gc_pause_during_requests: bool = True
    workers: int = 2  # gunicorn workers for `mbc-cds serve`
    # Threads per worker. One: hook calls with prefetch are pure computation, and
    # threads of one process computing at once only slow each other down (one
    # interpreter lock); `make bench` measured 18-21 % more calls per second with
    # one thread than with four. More threads let a worker go on while calls
    # without prefetch wait on a slow FHIR server.
    threads: int = 1
    # Each gunicorn worker listens on its own socket (SO_REUSEPORT) and the kernel
    # spreads new connections evenly over them. On one shared socket, the worker
    # that wakes first takes a whole burst of connections, and with keep-alive it
    # keeps them: 20 connections opened together went 19 or 20 to one of two
    # workers in 15 of 15 tries, and that worker then did all the work on one core
    # (README, Performance).
    # Off: a second server started on the same port fails ("address in use")
    # instead of sharing the traffic; `make run` turns it off for that reason.
    reuse_port: bool = True

    # Client JWTs and the clients' JWK Sets (service/auth.py).
    jwt_max_lifetime_seconds: int = 3600  # exp - iat longer than this is refused
    jwks_connect_timeout: float = 3.0
    jwks_read_timeout: float = 5.0
    jwks_cache_seconds: int = 3600  # a fetched JWK Set is reused this long
    jwks_refresh_min_interval_seconds: int = 60  # unknown kid: refetch at most this often per issuer

    @field_validator("fhir_servers", "cors_origins", "jwt_algorithms", mode="before")
    @classmethod
    def _split_commas(cls, value):
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def auth_enabled(self) -> bool:
        return self.auth == "on"

    @model_validator(mode="after")
    def _check_security_settings(self):
        # Start-up errors: a non-asymmetric JWT algorithm, a malformed clients file.
        from service.auth import check_settings

        check_settings(self)
        return self
