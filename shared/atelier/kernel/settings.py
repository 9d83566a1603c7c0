"""Settings: typed, validated at cold start, with secrets fetched through Powertools Parameters in AWS.

Locally a command whose settings are not in the environment reads them from `.atelier/dev.json`,
which `atelier dev` writes, so every CLI verb works against a running `make dev` with no set-up.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from atelier.kernel.errors import ConfigurationError

if TYPE_CHECKING:
    from atelier.kernel.business import Business

from atelier.kernel.home import dev_state_file

BaseSettingsT = TypeVar("BaseSettingsT", bound=BaseSettings)
SECRET_CACHE_SECONDS = 300

# Keys of .atelier/dev.json (a stable interface) and the environment variables they stand for.
DEV_STATE_ENV = {
    "api_url": "ATELIER_API_URL",
    "database_url": "DATABASE_URL",
    "notion_base_url": "NOTION_BASE_URL",
    "notion_token": "NOTION_TOKEN",
    "notion_human_token": "NOTION_HUMAN_TOKEN",
    "notion_parent_page_id": "NOTION_PARENT_PAGE_ID",
    "s3_endpoint_url": "S3_ENDPOINT_URL",
    "deliverables_bucket": "DELIVERABLES_BUCKET",
    "stripe_webhook_secret": "STRIPE_WEBHOOK_SECRET",
    "supabase_webhook_secret": "SUPABASE_WEBHOOK_SECRET",
    # Kept by notion_webhook on Notion's one-time handshake (the emulator's, under `make dev`).
    "notion_webhook_verification_token": "NOTION_WEBHOOK_VERIFICATION_TOKEN",
    # The client portal's keys, so that `atelier portal link` and `report link` make links the running stack opens.
    "portal_jwt_secret": "PORTAL_JWT_SECRET",
    "portal_link_secret": "PORTAL_LINK_SECRET",
    # The local stack's mail: its sender and its SES (moto), so that `atelier mail send` works against `make dev`.
    "mail_from": "MAIL_FROM",
    "ses_endpoint_url": "SES_ENDPOINT_URL",
    # Only while the local Stripe stand-in answers: its address and its (public, made-up) key.
    "stripe_api_base": "STRIPE_API_BASE",
    "stripe_api_key": "STRIPE_SECRET_KEY",
}


def fetch_secret(name: str) -> str:
    """A secret's value: SSM parameters are named `ssm:/path`, anything else is a Secrets Manager id."""
    from aws_lambda_powertools.utilities import parameters

    try:
        if name.startswith("ssm:"):
            value = parameters.get_parameter(name[4:], decrypt=True, max_age=SECRET_CACHE_SECONDS)
        else:
            value = parameters.get_secret(name, max_age=SECRET_CACHE_SECONDS)
    except parameters.exceptions.GetParameterError as exc:
        # The SDK's message can echo request details; name only the secret.
        raise ConfigurationError(f"cannot read secret {name!r}: check its name and the IAM policy") from exc
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"secret {name!r} is empty or not a string")
    return value


def secret(value: SecretStr | None, secret_name: str | None, setting: str) -> str:
    """A secret given directly (local runs) or by name (AWS); the name wins, so nothing sits in env in AWS."""
    if secret_name:
        return fetch_secret(secret_name)
    if value is not None and value.get_secret_value():
        return value.get_secret_value()
    raise ConfigurationError(
        f"{setting} is not set: export {setting}, or {setting}_SECRET with the name of a Secrets Manager "
        f"secret (or ssm:/parameter) that holds it, or start `make dev` so .atelier/dev.json provides it"
    )


class DatabaseSettings(BaseSettings):
    """How the backend reaches Postgres: a direct DSN (psycopg) or Supabase's REST API (PostgREST)."""

    model_config = SettingsConfigDict(extra="ignore")

    database_url: SecretStr | None = None
    database_url_secret: str | None = None
    supabase_url: str | None = None
    supabase_service_key: SecretStr | None = None
    supabase_service_key_secret: str | None = None

    @property
    def uses_postgrest(self) -> bool:
        has_dsn = self.database_url is not None or self.database_url_secret is not None
        return not has_dsn and self.supabase_url is not None


def load[BaseSettingsT: BaseSettings](model: type[BaseSettingsT], **overrides: Any) -> BaseSettingsT:
    """Build a settings model, turning pydantic's error into one that names the variables to fix."""
    try:
        return model(**overrides)
    except ValidationError as exc:
        fields = ", ".join(str(err["loc"][0]).upper() for err in exc.errors() if err["loc"])
        raise ConfigurationError(f"invalid settings for {model.__name__}: check {fields}") from exc


def dev_state_path() -> Path:
    """Where the local stack keeps its state: `ATELIER_DEV_STATE` (the stack sets it for its functions), else
    `.atelier/dev.json` as `state_home` finds it."""
    return Path(os.environ.get("ATELIER_DEV_STATE") or dev_state_file())


def read_dev_state(path: Path | None = None) -> dict[str, Any]:
    """The last `atelier dev`'s state file, or {} when there is none."""
    path = path or dev_state_file()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"{path} is unreadable ({exc}); delete it and start `make dev` again") from exc
    return data if isinstance(data, dict) else {}


def apply_dev_state(path: Path | None = None) -> list[str]:
    """Fill unset environment variables from the dev state file; return the names it filled."""
    state = read_dev_state(path)
    filled = []
    for key, env in DEV_STATE_ENV.items():
        value = state.get(key) if env not in os.environ else None
        if isinstance(value, str) and value:
            os.environ[env] = value
            filled.append(env)
    return filled


def dev_state_in_use(path: Path | None = None) -> bool:
    """Whether the settings in force came from the dev state file (a `make dev` stack)."""
    state = read_dev_state(path)
    return any(
        isinstance(state.get(key), str) and os.environ.get(env) == state.get(key) for key, env in DEV_STATE_ENV.items()
    )


class IntakeSettings(BaseSettings):
    """Settings of the lead_intake function."""

    model_config = SettingsConfigDict(extra="ignore")

    # Comma-separated origins that may post from a browser on another site, e.g. https://studio.example.
    allowed_origins: str = ""
    stripe_secret_key: SecretStr | None = None
    stripe_secret_key_secret: str | None = None
    # Points the Stripe client elsewhere: the local stack's Stripe stand-in.
    stripe_api_base: str | None = None
    # Empty: the API's own /thanks?session_id=... and /cancelled pages, at the address the form was posted to.
    checkout_success_url: str = ""
    checkout_cancel_url: str = ""
    # Leads per hour from one source address, and for one e-mail address (unset: the same as per source, so that
    # lifting the source's limit for a load test lifts both); 0 turns a limit off.
    atelier_lead_limit_per_source: int = Field(default=20, ge=0)
    atelier_lead_limit_per_email: int | None = Field(default=None, ge=0)
    # The largest quote the team may send, in the studio's main unit (a typo of three zeros is refused, not sent),
    # and how long a quote's payment page stays open (Stripe allows up to 24 hours; the link then offers a fresh one).
    atelier_quote_cap: int = Field(default=1_000_000, ge=1, le=10**9)
    atelier_quote_link_hours: int = Field(default=24, ge=1, le=24)
    # An instalment's invoice is due this many days after it is sent (its milestone done).
    atelier_invoice_days: int = Field(default=14, ge=0, le=365)

    def lead_limits(self) -> tuple[int, int]:
        """(per source address, per e-mail address), leads per hour; 0 is no limit."""
        per_email = self.atelier_lead_limit_per_email
        return (
            self.atelier_lead_limit_per_source,
            self.atelier_lead_limit_per_source if per_email is None else per_email,
        )

    @property
    def origins(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip()]

    @property
    def stripe_configured(self) -> bool:
        return bool(
            self.stripe_secret_key_secret or (self.stripe_secret_key and self.stripe_secret_key.get_secret_value())
        )


class PaymentSettings(BaseSettings):
    """Settings of the payment_succeeded function (the Stripe webhook)."""

    model_config = SettingsConfigDict(extra="ignore")

    stripe_webhook_secret: SecretStr | None = None
    stripe_webhook_secret_secret: str | None = None
    # Whether this deployment takes live events; test-mode events are then acknowledged, not applied.
    stripe_livemode: bool = False
    stripe_signature_tolerance: int = Field(default=300, ge=1, le=3600)


class NotionSettings(BaseSettings):
    """How Atelier reaches Notion; the data-source ids come from `atelier notion setup`."""

    model_config = SettingsConfigDict(extra="ignore")

    notion_token: SecretStr | None = None
    notion_token_secret: str | None = None
    notion_base_url: str | None = None
    notion_parent_page_id: str | None = None
    # Requests per second for this process; the sync worker runs alone, so this is the deployment's.
    notion_rate: float = Field(default=3.0, gt=0, le=1000)

    def token(self) -> str:
        return secret(self.notion_token, self.notion_token_secret, "NOTION_TOKEN")


class NotionWebhookSettings(BaseSettings):
    """Where notion_webhook keeps Notion's verification token: a Secrets Manager secret (AWS), a state file
    (`make dev`: .atelier/dev.json), or the token itself, set by the operator."""

    model_config = SettingsConfigDict(extra="ignore")

    notion_webhook_verification_token_secret: str | None = None
    notion_webhook_token_file: str | None = None
    notion_webhook_token_key: str = "notion_webhook_verification_token"  # noqa: S105 - where in the file, dotted
    notion_webhook_verification_token: SecretStr | None = None


class MailSettings(BaseSettings):
    """The studio's e-mails: who they come from, the reply-to address and signature, and where SES is (locally,
    moto's). With no MAIL_FROM, mail is off: messages wait in `notifications` until it is set."""

    model_config = SettingsConfigDict(extra="ignore")

    studio_name: str = Field(default="The Studio", min_length=1, max_length=100)
    mail_from: str | None = None  # a verified SES identity, e.g. "Studio <hello@studio.example>"
    mail_reply_to: str | None = None
    mail_signature: str | None = None  # default: "With best wishes,\n<studio_name>"
    mail_configuration_set: str | None = None  # SES events (bounces, complaints) go through it
    ses_endpoint_url: str | None = None  # the local stack's SES (moto); unset in AWS

    def signature(self) -> str:
        return (self.mail_signature or f"With best wishes,\n{self.studio_name}").replace("\\n", "\n")


class ReportSettings(BaseSettings):
    """The owner's reports: whom the weekly report goes to (none: it is not sent) and the studio's name on them.
    The links are signed with the portal's secret (`PortalSettings`), under a key derived for reports alone."""

    model_config = SettingsConfigDict(extra="ignore")

    owner_email: str | None = Field(default=None, max_length=254)
    team_email: str | None = Field(default=None, max_length=254)  # the daily digest of overdue tasks (else the owner)
    studio_name: str = Field(default="The Studio", min_length=1, max_length=100)

    def owner(self) -> str | None:
        address = (self.owner_email or "").strip()
        return address or None

    def team(self) -> str | None:
        return (self.team_email or "").strip() or self.owner()


class PortalSettings(BaseSettings):
    """The client portal: the secret its links, sessions and the owner's report links are signed with (keys derived
    from it, one per purpose), Supabase's JWT secret (it signs only the minute-long token each read sends to
    PostgREST), whether its cookie needs HTTPS, and the contact line."""

    model_config = SettingsConfigDict(extra="ignore")

    portal_link_secret: SecretStr | None = None
    portal_link_secret_secret: str | None = None
    portal_jwt_secret: SecretStr | None = None
    portal_jwt_secret_secret: str | None = None
    portal_cookie_secure: bool = True  # only `make dev` (plain http on localhost) turns it off
    studio_contact: str = Field(default="Questions? Reply to any e-mail from the studio.", max_length=300)
    atelier_api_url: str | None = None  # where the portal's links point (the API's public address)

    @property
    def secure(self) -> bool:
        return self.portal_cookie_secure

    def contact(self) -> str:
        return self.studio_contact

    def key(self) -> bytes:
        """The links' and sessions' secret: never Supabase's JWT secret, whose tokens PostgREST accepts."""
        return secret(self.portal_link_secret, self.portal_link_secret_secret, "PORTAL_LINK_SECRET").encode()

    def database_key(self) -> bytes | None:
        """Supabase's JWT secret, for reads through PostgREST; None where the database is reached directly."""
        if not (
            self.portal_jwt_secret_secret or (self.portal_jwt_secret and self.portal_jwt_secret.get_secret_value())
        ):
            return None
        return secret(self.portal_jwt_secret, self.portal_jwt_secret_secret, "PORTAL_JWT_SECRET").encode()

    def configured(self) -> bool:
        return bool(
            self.portal_link_secret_secret or (self.portal_link_secret and self.portal_link_secret.get_secret_value())
        )


# The studio's Notion databases, by the sync's name for each (`atelier notion setup` makes them).
DATA_SOURCES = ("lead", "client", "project", "milestone", "deliverable", "task", "service", "message")


class SyncSettings(BaseSettings):
    """The Notion data sources the sync engine writes to, as `atelier notion setup` printed them."""

    model_config = SettingsConfigDict(extra="ignore")

    notion_lead_data_source_id: str | None = None
    notion_client_data_source_id: str | None = None
    notion_project_data_source_id: str | None = None
    notion_milestone_data_source_id: str | None = None
    notion_deliverable_data_source_id: str | None = None
    notion_task_data_source_id: str | None = None
    notion_service_data_source_id: str | None = None
    notion_message_data_source_id: str | None = None
    supabase_webhook_secret: SecretStr | None = None
    supabase_webhook_secret_secret: str | None = None
    # A team comment on a project's page that begins with it stays the team's: never shown to the client.
    atelier_internal_marker: str = Field(default="internal:", min_length=1, max_length=40)

    def data_sources(self) -> dict[str, str]:
        ids = {name: getattr(self, f"notion_{name}_data_source_id") for name in DATA_SOURCES}
        missing = [f"NOTION_{name.upper()}_DATA_SOURCE_ID" for name, value in ids.items() if not value]
        if missing:
            raise ConfigurationError(f"{', '.join(missing)} not set: run `atelier notion setup` and export its output")
        return {name: str(value) for name, value in ids.items()}


def for_business[S: BaseSettings](settings: S, business: Business) -> S:
    """`settings` with one business's own values where the model has them: its name, sender, Notion workspace,
    Stripe account and webhook secrets. A secret the business has no reference to stays unset, so that using it
    says which reference to add (`atelier business set`), and never falls back to the deployment's."""
    from atelier.kernel.business import DEV_REF

    fields = type(settings).model_fields
    update: dict[str, Any] = {}

    def put(name: str, value: Any) -> None:
        if name in fields:
            update[name] = value

    for secret_field, ref in (
        ("notion_token", "notion_token"),
        ("stripe_webhook_secret", "stripe_webhook_secret"),
        ("stripe_secret_key", "stripe_secret_key"),
        ("notion_webhook_verification_token", "notion_webhook_token"),
    ):
        where = (business.refs or {}).get(ref)
        local = where is not None and where.startswith(DEV_REF)
        if secret_field in fields and not (local and ref == "notion_webhook_token"):  # that one: below
            # An ARN or ssm:/ name is read where the setting is used, as the deployment's own are.
            put(secret_field, SecretStr(business.secret(ref) or "") if local else None)
            put(f"{secret_field}_secret", None if local else where)
    put("notion_webhook_token_file", None)
    webhook_ref = (business.refs or {}).get("notion_webhook_token")
    if webhook_ref and webhook_ref.startswith(DEV_REF):  # locally: kept where the handshake puts it
        put("notion_webhook_verification_token", None)
        put("notion_webhook_token_file", str(dev_state_path()))
        put("notion_webhook_token_key", webhook_ref.removeprefix(DEV_REF))
    put("notion_base_url", business.notion_base_url)
    put("notion_parent_page_id", business.notion_parent_page_id)
    for entity in DATA_SOURCES:
        put(f"notion_{entity}_data_source_id", None)  # its own workspace's: from `notion setup --business`
    put("studio_name", business.name)
    for name in ("checkout_success_url", "checkout_cancel_url"):  # the API's own /thanks and /cancelled: its own
        url = urlsplit(str(getattr(settings, name, "") or ""))
        if url.path in ("/thanks", "/cancelled"):
            own = url._replace(scheme="https", netloc=business.domain) if business.domain else url
            put(name, own._replace(path=("" if business.domain else business.prefix) + url.path).geturl())
    base = getattr(settings, "atelier_api_url", None)
    if business.domain:  # its own custom domain: its routes without a prefix
        put("atelier_api_url", f"https://{business.domain}")
    elif base:
        put("atelier_api_url", str(base).rstrip("/") + business.prefix)
    if business.ses_sender:
        put("mail_from", business.ses_sender)
    return settings.model_copy(update=update)
