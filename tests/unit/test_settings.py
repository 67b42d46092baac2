"""Configuration: environment variables, secrets from *_FILE paths, refusals."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.settings import Settings


def test_defaults_match_the_embedded_stack(monkeypatch):
    for name in (
        "KAFKA_BOOTSTRAP_SERVERS",
        "MONGODB_URL",
        "SMTP_HOST",
        "SMTP_PORT",
        "SESSION_CAPACITY",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.kafka_bootstrap_servers == "127.0.0.1:9092"
    assert settings.mongodb_url.get_secret_value() == "mongodb://127.0.0.1:27017"
    assert (settings.smtp_host, settings.smtp_port) == ("127.0.0.1", 1025)
    assert settings.session_capacity == 30


def test_variables_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", "staging.")
    monkeypatch.setenv("COORDINATOR_EMAILS", " a@caprural.org, b@caprural.org ,")
    monkeypatch.setenv("SESSION_CAPACITY", "12")
    settings = Settings()
    assert settings.kafka_topic_prefix == "staging."
    assert settings.coordinators == ("a@caprural.org", "b@caprural.org")
    assert settings.session_capacity == 12
    assert settings.database_name("registration") == "caprural_registration"


def test_a_secret_can_come_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "smtp_password"
    secret.write_text("s3cr3t-from-file\n")
    monkeypatch.setenv("SMTP_USERNAME", "relay")
    monkeypatch.setenv("SMTP_PASSWORD_FILE", str(secret))
    settings = Settings()
    assert settings.smtp_password is not None
    assert settings.smtp_password.get_secret_value() == "s3cr3t-from-file"
    assert "s3cr3t" not in repr(settings)


def test_sasl_without_credentials_is_refused(monkeypatch):
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    with pytest.raises(ValidationError, match="KAFKA_SASL_USERNAME"):
        Settings()


def test_a_topic_prefix_with_spaces_is_refused(monkeypatch):
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", "bad prefix")
    with pytest.raises(ValidationError):
        Settings()
