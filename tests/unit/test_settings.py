"""Settings: secrets by name from Secrets Manager or SSM (moto), plain values locally, clear errors."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws
from pydantic import SecretStr

from atelier.kernel.errors import ConfigurationError
from atelier.kernel.settings import DatabaseSettings, apply_dev_state, load, secret

REGION = "eu-west-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    parameters.clear_caches()
    with mock_aws():
        yield
    parameters.clear_caches()


def test_a_secret_named_in_secrets_manager_wins_over_a_plain_value(aws: None) -> None:
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="atelier/database-url", SecretString="postgresql://from-secrets-manager"
    )
    assert secret(SecretStr("postgresql://plain"), "atelier/database-url", "DATABASE_URL") == (
        "postgresql://from-secrets-manager"
    )


def test_an_ssm_parameter_is_read_decrypted(aws: None) -> None:
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name="/atelier/supabase-key", Value="service-key", Type="SecureString"
    )
    assert secret(None, "ssm:/atelier/supabase-key", "SUPABASE_SERVICE_KEY") == "service-key"


def test_secrets_are_cached_between_calls(aws: None) -> None:
    client = boto3.client("secretsmanager", region_name=REGION)
    client.create_secret(Name="s", SecretString="first")
    assert secret(None, "s", "X") == "first"
    client.put_secret_value(SecretId="s", SecretString="second")
    assert secret(None, "s", "X") == "first"  # cached for SECRET_CACHE_SECONDS
    parameters.clear_caches()
    assert secret(None, "s", "X") == "second"


def test_a_missing_secret_names_itself_but_never_a_value(aws: None) -> None:
    with pytest.raises(ConfigurationError, match="cannot read secret 'atelier/missing'"):
        secret(None, "atelier/missing", "DATABASE_URL")


def test_an_unset_setting_says_how_to_set_it() -> None:
    with pytest.raises(ConfigurationError, match=r"export DATABASE_URL, or DATABASE_URL_SECRET .*`make dev`"):
        secret(None, None, "DATABASE_URL")


def test_secret_values_do_not_show_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://user:hunter2@db:6543/postgres")
    settings = DatabaseSettings()
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings.model_dump())


def test_postgrest_is_used_only_without_a_dsn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("SUPABASE_URL", "https://project.supabase.co")
    assert load(DatabaseSettings).uses_postgrest
    monkeypatch.setenv("DATABASE_URL_SECRET", "atelier/database-url")
    assert not load(DatabaseSettings).uses_postgrest


def test_dev_state_fills_only_unset_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = tmp_path / "dev.json"
    state.write_text(
        json.dumps({"database_url": "postgresql://dev", "stripe_webhook_secret": "whsec_dev", "notion_token": None})
    )
    for name in ("DATABASE_URL", "NOTION_TOKEN"):  # set, then unset: monkeypatch then restores the absence
        monkeypatch.setenv(name, "placeholder")
        monkeypatch.delenv(name)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_from_env")
    assert apply_dev_state(state) == ["DATABASE_URL"]
    assert os.environ["DATABASE_URL"] == "postgresql://dev"
    assert os.environ["STRIPE_WEBHOOK_SECRET"] == "whsec_from_env"
    assert "NOTION_TOKEN" not in os.environ


def test_a_broken_dev_state_file_says_what_to_do(tmp_path: Path) -> None:
    state = tmp_path / "dev.json"
    state.write_text("{not json")
    with pytest.raises(ConfigurationError, match="delete it and start `make dev` again"):
        apply_dev_state(state)


def test_no_dev_state_file_is_fine(tmp_path: Path) -> None:
    assert apply_dev_state(tmp_path / "absent.json") == []


@pytest.mark.parametrize(
    ("env", "limits"),
    [
        ({}, (20, 20)),
        ({"ATELIER_LEAD_LIMIT_PER_SOURCE": "0"}, (0, 0)),  # a load test from one address lifts both
        ({"ATELIER_LEAD_LIMIT_PER_SOURCE": "50", "ATELIER_LEAD_LIMIT_PER_EMAIL": "5"}, (50, 5)),
        ({"ATELIER_LEAD_LIMIT_PER_EMAIL": "0"}, (20, 0)),
    ],
)
def test_the_lead_limits_default_to_20_an_hour_and_the_e_mails_follows_the_sources(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], limits: tuple[int, int]
) -> None:
    from atelier.kernel.settings import IntakeSettings

    for name in ("ATELIER_LEAD_LIMIT_PER_SOURCE", "ATELIER_LEAD_LIMIT_PER_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert IntakeSettings().lead_limits() == limits


def test_a_negative_lead_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from atelier.kernel.settings import IntakeSettings

    monkeypatch.setenv("ATELIER_LEAD_LIMIT_PER_SOURCE", "-1")
    with pytest.raises(ValidationError):
        IntakeSettings()
