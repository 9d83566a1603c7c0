"""The one wiring: cached factories that build each adapter once per container (or CLI run), on first use.

Handlers and the CLI both get their ports here, so the rpc, the Notion gateway, the data sources, S3 and
the services are put together in one place. Heavy SDKs are imported inside the factory that needs them,
so a function pays only for what it uses. `reset()` forgets everything (tests, a new local stack).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any, cast

from pydantic_settings import BaseSettings

from atelier.kernel.business import Business, Directory, PerBusiness, named, working_for
from atelier.kernel.errors import ConfigurationError
from atelier.kernel.settings import DatabaseSettings, NotionSettings, PortalSettings, SyncSettings, for_business, load

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    from mypy_boto3_s3 import S3Client

    from atelier.deliverables.links import DownloadLinks
    from atelier.deliverables.service import DeliverableService
    from atelier.deliverables.shelf import DocumentShelf
    from atelier.deliverables.store import ObjectStore
    from atelier.intake.service import IntakeService
    from atelier.kernel.rpc import Rpc
    from atelier.mail.outbox import MailOutbox
    from atelier.notion.gateway import NotionGateway
    from atelier.notion.webhook import TokenStore, WebhookGate
    from atelier.payments.invoices import InvoiceDesk
    from atelier.payments.quotes import QuoteDesk
    from atelier.payments.stripe_events import StripeEventService
    from atelier.portal.desk import PortalDesk
    from atelier.portal.service import PortalService
    from atelier.reports.links import ReportLinks
    from atelier.sync.events import NotionEvents
    from atelier.sync.push import OutboxPusher
    from atelier.sync.records import SyncPorts

_SETTINGS: dict[type[BaseSettings], BaseSettings] = {}
_BUSINESS_SETTINGS: dict[tuple[type[BaseSettings], str], BaseSettings] = {}
# How long a Notion gateway waits out Notion's rate limits (429, 529) past its attempts: a function's deadline bounds
# it anyway; an operator's command, which has none, sets its own (`wait_out_rate_limits`).
_DEFAULT_PATIENCE: dict[str, Any] = {"seconds": 60.0, "say": None}
_PATIENCE = dict(_DEFAULT_PATIENCE)


def wait_out_rate_limits(seconds: float, say: Callable[[float], None]) -> None:
    """For the CLI: Notion gateways made from now on wait out rate limits for up to `seconds`, telling `say`."""
    _PATIENCE.update(seconds=seconds, say=say)


def settings[S: BaseSettings](model: type[S]) -> S:
    """A settings model, read from the environment once and validated; for a business other than the default, with
    its own name, sender, Notion and Stripe in place of the deployment's (one's secret never serves another)."""
    if model not in _SETTINGS:
        _SETTINGS[model] = load(model)
    business = named()
    if business is None:
        return cast(S, _SETTINGS[model])
    key = (model, repr(business))  # as the directory reads it now: a changed reference is read afresh
    if key not in _BUSINESS_SETTINGS:
        _BUSINESS_SETTINGS[key] = for_business(_SETTINGS[model], business)
    return cast(S, _BUSINESS_SETTINGS[key])


@lru_cache(maxsize=1)
def database() -> Rpc:  # the deployment's database connection, as no business in particular
    from atelier.kernel.rpc import rpc_from_settings

    return rpc_from_settings(settings(DatabaseSettings))


@PerBusiness
def rpc() -> Rpc:
    """The database for the current business: every call names it (`x-atelier-business`), except the default's."""
    business = named()
    if business is None:
        return database()
    for_business = getattr(database(), "for_business", None)
    if for_business is None:
        raise ConfigurationError("this database connection cannot name a business (no for_business)")
    return cast("Rpc", for_business(business.id))


@lru_cache(maxsize=1)
def directory() -> Directory:  # the businesses this deployment serves (read once a minute)
    return Directory(database())


def in_business(slug: str | None) -> AbstractContextManager[Business | None]:  # None: the default business
    return working_for(directory().named(slug))


def serve(app: APIGatewayHttpResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """An HTTP function's answer, for the business the request names (`/b/{slug}/`, its host, else the default)."""
    from atelier.web.business import serve as serve_business

    return serve_business(app, event, context, directory)


@PerBusiness
def notion() -> NotionGateway:
    """The operator's gateway: the functions' own, on their shared budget, where the database is at hand."""
    from atelier.notion.gateway import gateway_from_settings

    try:
        rpc()
    except ConfigurationError:  # no database: `notion setup` still runs
        return gateway_from_settings(settings(NotionSettings), patience=_PATIENCE["seconds"], on_wait=_PATIENCE["say"])
    return shared_notion()


@PerBusiness
def shared_notion() -> NotionGateway:
    """The functions' gateway: one request budget in Postgres for the whole deployment, within Notion's limit."""
    from atelier.notion.budget import SharedBudget
    from atelier.notion.gateway import NotionGateway

    notion_settings = settings(NotionSettings)
    budget = SharedBudget(rpc(), rate=notion_settings.notion_rate)
    return NotionGateway(
        notion_settings.token(),
        base_url=notion_settings.notion_base_url,
        budget=budget,
        patience=_PATIENCE["seconds"],
        on_wait=_PATIENCE["say"],
    )


@PerBusiness
def data_sources() -> dict[str, str]:
    """The data sources: from the environment (`notion setup` printed them), or found under the parent page."""
    try:
        return settings(SyncSettings).data_sources()
    except ConfigurationError:
        parent = settings(NotionSettings).notion_parent_page_id
        if not parent:
            raise
    from atelier.sync.mapping import ENTITIES, SOURCES
    from atelier.sync.setup import find_existing, known_sources

    found = find_existing(notion(), parent, known_sources(rpc()))
    if len(found) < len(ENTITIES + SOURCES):
        raise ConfigurationError("the Notion databases are not set up: run `atelier notion setup`")
    return {name: ids.data_source_id for name, ids in found.items()}


@lru_cache(maxsize=1)
def s3() -> S3Client:
    from atelier.deliverables.store import StorageSettings

    return settings(StorageSettings).client()


@lru_cache(maxsize=1)
def object_store() -> ObjectStore:  # the deliverables' files (S3); its client is built when a file is first touched
    from atelier.deliverables.store import S3ObjectStore

    return S3ObjectStore(s3)


@PerBusiness
def download_links() -> DownloadLinks:
    from atelier.deliverables.store import StorageSettings

    return settings(StorageSettings).links()


@PerBusiness
def document_shelf() -> DocumentShelf:  # receipts and invoices, kept beside the deliverables
    from atelier.deliverables.shelf import DocumentShelf
    from atelier.deliverables.store import StorageSettings

    return DocumentShelf(object_store(), settings(StorageSettings).bucket, getattr(named(), "slug", None))


@PerBusiness
def sync_ports() -> SyncPorts:
    """The sync engine's ports: each entity's page content, the e-mails' words, dropped files, Stripe's Prices."""
    from atelier.deliverables.drops import FileDrops
    from atelier.deliverables.showcase import Showcase
    from atelier.deliverables.store import StorageSettings
    from atelier.kernel.settings import IntakeSettings
    from atelier.mail.wording import MailWords
    from atelier.payments.stripe_catalogue import stripe_catalogue
    from atelier.sync.brief import ProjectBrief
    from atelier.sync.records import SyncPorts

    gateway = shared_notion()
    ports = SyncPorts(
        rpc(),
        gateway,
        data_sources(),
        contents={"deliverable": Showcase(rpc(), gateway, object_store()), "project": ProjectBrief(rpc())},
        quote_cap_cents=settings(IntakeSettings).atelier_quote_cap * 100,
        internal_marker=settings(SyncSettings).atelier_internal_marker,
        words=MailWords(),
    )
    drops = FileDrops.of(ports, object_store(), download_links, settings(StorageSettings).bucket, named())
    return replace(ports, drops=drops, catalogue_changed=stripe_catalogue(rpc(), settings(IntakeSettings)))


@PerBusiness
def outbox_pusher() -> OutboxPusher:
    from atelier.sync.push import OutboxPusher

    return OutboxPusher(sync_ports())


@PerBusiness
def notion_events() -> NotionEvents:
    from atelier.sync.events import NotionEvents

    return NotionEvents(deciding_ports())


@PerBusiness
def webhook_tokens() -> TokenStore:  # where the Notion webhook's verification token is kept
    from atelier.kernel.settings import NotionWebhookSettings
    from atelier.notion.webhook import tokens_from_settings

    return tokens_from_settings(settings(NotionWebhookSettings))


@PerBusiness
def webhook_gate() -> WebhookGate:
    from atelier.notion.webhook import RpcArming, WebhookGate

    return WebhookGate(webhook_tokens(), RpcArming(rpc()))


@PerBusiness
def mail_outbox() -> MailOutbox | None:
    """The client e-mail outbox, or None while MAIL_FROM is unset (messages wait in `notifications`)."""
    from atelier.kernel.settings import MailSettings
    from atelier.mail.outbox import MailOutbox
    from atelier.mail.render import Studio
    from atelier.mail.ses import mailer_from_settings
    from atelier.payments.documents import ReceiptEnclosure
    from atelier.portal.pages import deliverable_path
    from atelier.reports.weekly import LINK_HOURS, WeeklyEnclosure

    config = settings(MailSettings)
    if not config.mail_from:
        return None
    links = download_links()
    portal_on = settings(PortalSettings).configured()

    def report_url(period: str) -> str:
        return report_links().url(LINK_HOURS, period=period, purpose="weekly")

    weekly = WeeklyEnclosure(rpc(), config.studio_name, report_url=report_url if portal_on else None)
    # A file's e-mail links through the portal: the client signs in, so a forwarded e-mail opens nothing.
    base = links.base_url
    download_url = (lambda i: f"{base}{deliverable_path(i)}") if portal_on else links.url
    return MailOutbox(
        rpc(),
        mailer_from_settings(config),
        Studio(config.studio_name, config.signature(), business.brand_colour if (business := named()) else None),
        download_url=download_url,
        sign_in_url=portal().link if portal_on else None,
        portal_url=f"{links.base_url}/portal" if portal_on else None,
        enclose=ReceiptEnclosure(rpc(), weekly, keep=document_shelf().keep),
        quote_url=lambda token: f"{base}/quote/{token}",
    )


@PerBusiness
def decision_mail() -> MailOutbox | None:
    """The outbox as a team's decision needs it (a quote's or a decline's e-mail, sent as it lands), or None."""
    from atelier.kernel.settings import MailSettings
    from atelier.mail.outbox import MailOutbox
    from atelier.mail.render import Studio
    from atelier.mail.ses import mailer_from_settings

    config = settings(MailSettings)
    if not config.mail_from:
        return None
    base, studio = _api_url(), Studio(config.studio_name, config.signature(), getattr(named(), "brand_colour", None))
    return MailOutbox(rpc(), mailer_from_settings(config), studio, quote_url=lambda token: f"{base}/quote/{token}")


def deciding_ports() -> SyncPorts:
    """The sync's ports where a decision may land: what follows runs (a quote, a milestone's invoice), each alone."""
    return replace(sync_ports(), settle=_settle)


def _settle(deadline: float | None) -> dict[str, int]:
    try:
        counts = quote_desk().settle(decision_mail, deadline=deadline)
    except ConfigurationError as exc:
        counts = {"decisions_waiting": 1, f"decisions_{type(exc).__name__}": 1}
    return counts | invoice_desk().run(deadline=deadline).counts()


@PerBusiness
def portal() -> PortalService:
    """The client portal: sign-ins through the service role, reads as the client (`Rpc.as_user`)."""
    from atelier.portal.service import PortalService
    from atelier.portal.session import PortalKeys

    config, base, database = settings(PortalSettings), _api_url(), rpc()
    reads = getattr(database, "as_user", None)
    if reads is None:
        raise ConfigurationError("this database connection cannot act as a client (no as_user)")
    keys = PortalKeys(config.key(), database_secret=config.database_key())
    return PortalService(database, reads, keys, base_url=base)


def portal_desk(*, secure: bool, contact: str) -> PortalDesk:
    """The portal's routes; the conversation's writes store a client's file in S3 and ring Notion for the team."""
    from atelier.deliverables.keys import attachment_key
    from atelier.deliverables.store import StorageSettings
    from atelier.payments.documents import kept
    from atelier.portal.conversation import Conversation
    from atelier.portal.desk import PortalDesk
    from atelier.sync.comments import post_due
    from atelier.sync.records import SyncPorts

    def bell(seconds: float) -> None:  # the team's comments, now: the comment outbox needs no data source
        post_due(SyncPorts(rpc(), shared_notion(), {}), deadline=time.monotonic() + seconds)

    key_of = partial(attachment_key, business=getattr(named(), "slug", None))
    talk = Conversation(portal(), object_store(), settings(StorageSettings).bucket, bell, key_of)
    file = partial(kept, keep=document_shelf().keep)
    return PortalDesk(portal(), download_links(), secure=secure, contact=contact, conversation=talk, documents=file)


def _api_url() -> str:
    from atelier.deliverables.store import StorageSettings

    base = settings(PortalSettings).atelier_api_url or settings(StorageSettings).atelier_api_url
    if not base:
        raise ConfigurationError("ATELIER_API_URL is not set: export the API's public URL, or start `make dev`")
    return base


def report_links() -> ReportLinks:  # links to the owner's report, ended by `atelier report revoke`
    from atelier.reports.links import ReportLinks

    return ReportLinks(settings(PortalSettings).key(), _api_url(), rpc())


@PerBusiness
def quote_desk() -> QuoteDesk:
    """Quotes' Checkout sessions: opened, expired and made again through the business's own Stripe account."""
    from atelier.kernel.settings import IntakeSettings
    from atelier.payments.stripe_checkout import quote_desk_from_settings

    return quote_desk_from_settings(rpc(), settings(IntakeSettings), site=_api_url())


@PerBusiness
def invoice_desk() -> InvoiceDesk:  # instalments' invoices, through the business's own Stripe account, in its name
    from atelier.kernel.settings import IntakeSettings, MailSettings
    from atelier.payments.stripe_invoices import invoice_desk_from_settings

    studio = getattr(named(), "name", None) or settings(MailSettings).studio_name
    return invoice_desk_from_settings(rpc(), settings(IntakeSettings), studio=studio)


@PerBusiness
def stripe_events() -> StripeEventService:
    from atelier.kernel.settings import PaymentSettings
    from atelier.payments.stripe_events import StripeEventService

    return StripeEventService(rpc(), livemode=settings(PaymentSettings).stripe_livemode)


@PerBusiness
def intake_service() -> IntakeService:
    from atelier.intake.service import IntakeService, LeadLimits
    from atelier.kernel.settings import IntakeSettings
    from atelier.payments.stripe_checkout import checkout_from_settings

    config = settings(IntakeSettings)
    return IntakeService(rpc(), checkout_from_settings(config), LeadLimits(*config.lead_limits()))


@PerBusiness
def deliverable_service() -> DeliverableService:
    from atelier.deliverables.service import DeliverableService

    return DeliverableService(rpc(), object_store(), download_links())


def reset() -> None:
    """Forget every adapter and setting (and the CLI's patience with Notion): the next call reads them afresh."""
    _SETTINGS.clear()
    _BUSINESS_SETTINGS.clear()
    _PATIENCE.update(_DEFAULT_PATIENCE)
    for factory in [f for f in globals().values() if hasattr(f, "cache_clear") and not isinstance(f, type)]:
        factory.cache_clear()  # every cached factory above
