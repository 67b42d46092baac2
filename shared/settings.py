"""Typed configuration, read from environment variables (the same names everywhere).

Any variable may instead be given as a file path in `<NAME>_FILE` (Docker/Compose
secrets): `SMTP_PASSWORD_FILE=/run/secrets/smtp_password`.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

ServiceName = Literal["registration", "programme", "scheduling", "notifications", "gateway"]
SERVICES: tuple[ServiceName, ...] = (
    "registration",
    "programme",
    "scheduling",
    "notifications",
    "gateway",
)
DEFAULT_HEALTH_PORTS: dict[str, int] = {
    "registration": 8081,
    "programme": 8082,
    "scheduling": 8083,
    "notifications": 8084,
    "gateway": 8080,
}
PLACEHOLDER_SECRETS = frozenset({"changeme", "change-me", "secret", "changethis", "xxx"})


class FileSecretsSource(PydanticBaseSettingsSource):
    """Reads `<NAME>_FILE` variables: the content of that file, stripped; empty is unset."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        path = os.environ.get(f"{field_name.upper()}_FILE")
        if not path:
            return None, field_name, False
        value = Path(path).read_text(encoding="utf-8").strip()
        return value or None, field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            value, key, _ = self.get_field_value(field, name)
            if value is not None:
                values[key] = value
        return values


class Settings(BaseSettings):
    """Every setting of the platform; services read configuration from here only."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, env_ignore_empty=True)

    # Kafka
    kafka_bootstrap_servers: str = Field(default="127.0.0.1:9092")
    kafka_topic_prefix: str = Field(default="", max_length=100, pattern=r"^[A-Za-z0-9._-]*$")
    kafka_partitions: int = Field(default=3, ge=1, le=64)
    kafka_replication_factor: int = Field(default=1, ge=1, le=5)
    kafka_enable_idempotence: bool = False
    # How long a silent consumer keeps its partitions (Kafka accepts 6000 and more by
    # default); a new consumer group also waits about half of it before its first
    # assignment on the embedded broker.
    kafka_session_timeout_ms: int = Field(default=10_000, ge=1_000, le=300_000)
    # How long the broker may hold a fetch that finds nothing new. Kafka answers as soon
    # as data arrives; the embedded broker (Tansu) holds an idle fetch for most of this
    # wait even then, so on it each hop between services costs a fraction of it
    # (docs/performance.md). Lower: less latency on Tansu, more idle fetches.
    kafka_fetch_max_wait_ms: int = Field(default=100, ge=1, le=10_000)
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = None

    # MongoDB
    mongodb_url: SecretStr = Field(default=SecretStr("mongodb://127.0.0.1:27017"))
    mongodb_database_prefix: str = Field(
        default="caprural_", max_length=40, pattern=r"^[A-Za-z0-9_-]*$"
    )

    # SMTP
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    smtp_connections: int = Field(default=2, ge=1, le=10)
    """SMTP connections each notifications instance sends over, in turn."""
    mail_from: str = "Cap Rural <pat@caprural.org>"
    coordinator_emails: str = ""

    # The public web face (the gateway) and the links in emails
    public_base_url: str = Field(default="http://127.0.0.1:8080", pattern=r"^https?://[^\s/]+")
    link_secret: SecretStr | None = None
    link_ttl_days: int = Field(default=60, ge=1, le=3650)
    http_port: int | None = Field(default=None, ge=1, le=65535)
    confirmations_per_hour: int = Field(default=5, ge=1, le=1000)

    # Domain
    session_capacity: int = Field(default=30, ge=1, le=10_000)
    webconference_base_url: str = Field(
        default="https://visio.caprural.org/pat", pattern=r"^https?://\S+$"
    )

    # The session cycle: the coordinators (and confirmed experts) get the questions of a
    # session in one digest this many hours before it starts.
    question_digest_hours: int = Field(default=72, ge=1, le=24 * 60)

    # Timers (MongoDB-backed; the intervals only bound how late a due item is handled)
    reminder_poll_seconds: float = Field(default=30.0, gt=0, le=3600)
    delivery_poll_seconds: float = Field(default=2.0, gt=0, le=600)
    delivery_batch_size: int = Field(default=200, ge=1, le=10_000)
    delivery_max_attempts: int = Field(default=50, ge=1, le=1000)

    # Process
    service_name: str = ""
    health_host: str = "0.0.0.0"
    health_port: int | None = Field(default=None, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"
    # Traces go to this OTLP/HTTP collector (e.g. http://otel-collector:4318); none when
    # unset. The exporter reads the other standard OTEL_* variables itself.
    otel_exporter_otlp_endpoint: str | None = Field(default=None, pattern=r"^(https?://\S+)?$")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        assert isinstance(env_settings, EnvSettingsSource)
        return (init_settings, env_settings, FileSecretsSource(settings_cls))

    @field_validator("coordinator_emails")
    @classmethod
    def _strip_coordinators(cls, value: str) -> str:
        return ",".join(part.strip() for part in value.split(",") if part.strip())

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> Self:
        if self.kafka_security_protocol.startswith("SASL") and not (
            self.kafka_sasl_username and self.kafka_sasl_password
        ):
            raise ValueError("KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required for SASL")
        if self.smtp_password and not self.smtp_username:
            raise ValueError("SMTP_PASSWORD is set but SMTP_USERNAME is not")
        if self.link_secret is not None:
            secret = self.link_secret.get_secret_value()
            if len(secret) < 32 or secret.lower() in PLACEHOLDER_SECRETS:
                raise ValueError("LINK_SECRET must be at least 32 random characters")
        return self

    @cached_property
    def coordinators(self) -> tuple[str, ...]:
        """COORDINATOR_EMAILS as a tuple of addresses."""
        return tuple(self.coordinator_emails.split(",")) if self.coordinator_emails else ()

    def database_name(self, service: str) -> str:
        """Each service owns one database: `<prefix><service>`."""
        return f"{self.mongodb_database_prefix}{service}"

    def consumer_group(self, service: str) -> str:
        """The consumer group of a service (scoped by the topic prefix)."""
        return f"{self.kafka_topic_prefix}{service}"

    def health_port_for(self, service: str) -> int:
        """The gateway's HTTP_PORT; HEALTH_PORT; else the service's default port."""
        if service == "gateway" and self.http_port:
            return self.http_port
        return self.health_port or DEFAULT_HEALTH_PORTS.get(service, 8080)

    def required_link_secret(self) -> str:
        """LINK_SECRET, which the services making or reading links cannot start without."""
        if self.link_secret is None:
            raise ValueError(
                "LINK_SECRET (or LINK_SECRET_FILE) is required: the links in emails are "
                "signed with it (32 random characters or more, the same for every service)"
            )
        return self.link_secret.get_secret_value()
