"""The whole local stack in one object: Postgres, the front door, and the stand-ins for Stripe.

`atelier dev` runs it until Ctrl-C; tests and benchmarks start it on a free port against their own database.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from atelier import wiring
from atelier_local.businesses import LocalBusiness
from atelier_local.frontdoor import Extra, FrontDoor
from atelier_local.lambda_runtime import LocalLambdas
from atelier_local.mail_local import LOCAL_SENDER, MailPage, verify_sender
from atelier_local.notion_emulator import Faults, NotionEmulator
from atelier_local.notion_window import NotionWindow
from atelier_local.s3_local import CREDENTIALS, LocalS3
from atelier_local.stripe_standin import API_PREFIX, LOCAL_API_KEY, StripeStandIn

SCHEDULED_RUN_SECONDS = 120
ENTITY_NAMES = (
    "lead",
    "client",
    "project",
    "milestone",
    "deliverable",
)  # the longest one scheduled run may take (each function's timeout in AWS)


def scheduled_event() -> dict[str, Any]:
    """The event EventBridge Scheduler sends notion_sync on each run."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": "000000000000",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "local",
        "resources": ["arn:aws:scheduler:local:000000000000:schedule/default/notion-sync"],
        "detail": "{}",
    }


@dataclass
class LocalStack:
    database_url: str
    host: str = "127.0.0.1"
    port: int = 3000
    log_level: str = "INFO"
    state_dir: Path | None = None  # `make dev`: logs and the emulator's pages live here; tests keep none
    log_dir: Path | None = None  # each function's log (default: <state_dir>/logs; none without either)
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ), repr=False)  # holds secrets
    front_door: FrontDoor | None = None
    stripe: StripeStandIn | None = None
    settings: dict[str, str] = field(default_factory=dict, repr=False)  # holds secrets
    notion_rate: float = 3.0  # the emulator's limit and the gateway's budget; tests scale it up
    notion: NotionEmulator | None = None
    s3: LocalS3 | None = None
    sync_interval: float | None = None  # seconds between scheduled notion_sync runs, as EventBridge would
    _scheduler: threading.Thread | None = None
    _stopping: threading.Event = field(default_factory=threading.Event)
    _saved_environ: dict[str, str | None] = field(default_factory=dict, repr=False)
    _scratch: Path | None = None
    businesses: dict[str, LocalBusiness] = field(default_factory=dict)  # the businesses besides the default
    _started_at: float = field(default_factory=time.time)

    def start(self) -> LocalStack:
        self.stripe = None
        extras: list[Extra] = []
        real_stripe = bool(self.environ.get("STRIPE_SECRET_KEY"))
        if not real_stripe:
            self.stripe = StripeStandIn()
            extras.append(self.stripe.handle)
        extras.append(MailPage(self.database_url).handle)
        extras.append(NotionWindow(lambda: self.notion).handle)  # GET /_local/notion: the emulated workspace
        self.front_door = FrontDoor(
            self.host,
            self.port,
            lambdas=LocalLambdas(log_dir=self.log_dir or (self.state_dir / "logs" if self.state_dir else None)),
            extras=extras,
        )
        url = self.front_door.url
        env = {
            "DATABASE_URL": self.database_url,
            "POWERTOOLS_SERVICE_NAME": "atelier",
            "POWERTOOLS_METRICS_NAMESPACE": "AtelierLocal",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": self.log_level,
            "CHECKOUT_SUCCESS_URL": f"{url}/thanks?session_id={{CHECKOUT_SESSION_ID}}",
            "CHECKOUT_CANCEL_URL": f"{url}/cancelled",
            "STRIPE_WEBHOOK_SECRET": self.environ.get("STRIPE_WEBHOOK_SECRET") or f"whsec_{secrets.token_hex(16)}",
            "SUPABASE_WEBHOOK_SECRET": self.environ.get("SUPABASE_WEBHOOK_SECRET") or secrets.token_urlsafe(24),
        }
        self.s3 = LocalS3(
            lambda event: self.front_door_lambdas().invoke("deliverable_uploaded", event, timeout_seconds=60)
        ).start()
        env |= {
            "S3_ENDPOINT_URL": self.s3.url,
            "DELIVERABLES_BUCKET": self.s3.bucket,
            "ATELIER_API_URL": url,
            "DOWNLOAD_TOKEN_KEY": self._download_token_key(),
            # Supabase's JWT secret (it signs the portal's reads through PostgREST), and the secret of the
            # portal's and report's own links and sessions; plain http here, so no Secure cookie.
            "PORTAL_JWT_SECRET": self.environ.get("PORTAL_JWT_SECRET") or self._kept_key("portal-jwt.key"),
            "PORTAL_LINK_SECRET": self.environ.get("PORTAL_LINK_SECRET") or self._kept_key("portal-link.key"),
            "PORTAL_COOKIE_SECURE": "false",
        }
        env |= {name: self.environ.get(name) or value for name, value in CREDENTIALS.items()}
        # Client e-mail goes through SES, moto's here (the same in-process server as S3), from a verified sender.
        env |= {
            "SES_ENDPOINT_URL": self.s3.url,
            "MAIL_FROM": self.environ.get("MAIL_FROM") or LOCAL_SENDER,
            "STUDIO_NAME": self.environ.get("STUDIO_NAME") or "Atelier Studio",
            # The weekly report's reader: moto keeps what is sent (GET /_local/mail shows it).
            "OWNER_EMAIL": self.environ.get("OWNER_EMAIL") or "owner@atelier.local",
        }
        verify_sender(self.s3.url, env["MAIL_FROM"])
        if self.stripe:
            env |= {"STRIPE_SECRET_KEY": LOCAL_API_KEY, "STRIPE_API_BASE": f"{url}{API_PREFIX}"}
        if not self.environ.get("NOTION_TOKEN"):
            faults = Faults(rate_per_second=self.notion_rate, burst=self.notion_rate * 3)
            state_file = self.state_dir / "notion.json" if self.state_dir else None
            self.notion = NotionEmulator(self.host, 0, faults=faults, state_file=state_file).start()
            env |= {
                "NOTION_TOKEN": self.notion.state.bot_token,
                "NOTION_BASE_URL": self.notion.url,
                "NOTION_HUMAN_TOKEN": self.notion.state.human_token,
                "NOTION_PARENT_PAGE_ID": self.notion.parent_page_id,
            }
        env["NOTION_RATE"] = str(self.notion_rate)
        # notion_webhook keeps Notion's verification token in the dev state file (a scratch one without state_dir).
        env["NOTION_WEBHOOK_TOKEN_FILE"] = str(self.webhook_token_file())
        env["ATELIER_DEV_STATE"] = str(self.dev_state_path())  # where other businesses' `dev.json:` refs point
        # The handlers run in this process and read their settings from the environment, as in Lambda.
        self._saved_environ = {name: os.environ.get(name) for name in env}
        os.environ.update(env)
        wiring.reset()
        self.settings = env
        if self.stripe:
            self.stripe.base_url = url
            self.stripe.webhook_secret = env["STRIPE_WEBHOOK_SECRET"]
        self.front_door.start()
        return self

    def add_business(self, slug: str, name: str, **options: Any) -> LocalBusiness:
        """Serve another business too: its own Notion workspace, Stripe account and sender (businesses.py)."""
        from atelier_local.businesses import add_business

        return add_business(self, slug, name, **options)

    def dev_state_path(self) -> Path:
        return self.webhook_token_file()

    def bound_port(self) -> int:
        """The port the front door listens on (the one asked for, or the free one taken for port 0)."""
        assert self.front_door is not None
        return int(urlsplit(self.front_door.url).port or self.port)

    def webhook_token_file(self) -> Path:
        """This stack's own state (`.atelier/stacks/<port>.json` under `make dev`; `dev.json` links to the newest)."""
        if self.state_dir is not None:
            from atelier_local.stacks import own_state

            return own_state(self.state_dir, self.bound_port())
        if self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix="atelier-stack-"))
        return self._scratch / "dev.json"

    def connect_notion_webhooks(self, delay: float = 2.0) -> dict[str, Any]:
        """Subscribe the front door's POST /webhooks/notion to the emulator's webhooks, as an operator does in
        Notion: the handshake's token is kept by notion_webhook (a new subscription replaces an old token)."""
        from atelier.kernel.business import named
        from atelier.kernel.settings import NotionWebhookSettings
        from atelier.notion.webhook import FileTokens, RpcArming

        assert self.front_door is not None
        business = named()  # another business: its own emulator, and its own route
        notion = self.businesses[business.slug].notion if business else self.notion
        if notion is None:
            return {}
        FileTokens(self.webhook_token_file(), wiring.settings(NotionWebhookSettings).notion_webhook_token_key).clear()
        RpcArming(wiring.rpc()).arm(60)  # as `atelier notion webhook arm` does before an operator subscribes
        route = f"{self.front_door.url}{business.prefix if business else ''}/webhooks/notion"
        subscription = notion.webhooks.subscribe(route, delay=delay)
        if subscription.get("handshake_status") != 200:
            raise RuntimeError(
                f"the webhook handshake was answered {subscription.get('handshake_status')}; "
                f"see {self.log_dir or 'the logs'}/notion_webhook.log"
            )
        return subscription

    def front_door_lambdas(self) -> LocalLambdas:
        assert self.front_door is not None
        return self.front_door.lambdas

    def _download_token_key(self) -> str:
        """The key that signs download links; under `make dev` it is kept, so links on pages keep working."""
        if self.environ.get("DOWNLOAD_TOKEN_KEY"):
            return self.environ["DOWNLOAD_TOKEN_KEY"]
        return self._kept_key("download-token.key")

    def _kept_key(self, name: str) -> str:
        """A random key, kept in the state directory under `make dev` (so links and sessions outlive a restart)."""
        if self.state_dir is None:
            return secrets.token_urlsafe(32)
        path = self.state_dir / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip()

    def setup_notion(self, say: Callable[[str], None] = lambda _: None) -> dict[str, str]:
        """Create the databases (in the emulator, or under NOTION_PARENT_PAGE_ID in real Notion) and the catalogue's
        and the e-mails' first pages."""
        from atelier.kernel.business import named
        from atelier.kernel.settings import NotionSettings
        from atelier.mail.wording import MailWords
        from atelier.sync.setup import setup

        parent = wiring.settings(NotionSettings).notion_parent_page_id
        if not parent:
            say("notion: NOTION_PARENT_PAGE_ID is not set, so no databases were set up")
            return {}
        result = setup(wiring.notion(), parent, rpc=wiring.rpc(), say=say, words=MailWords())
        ids = dict(line.split("=", 1) for line in result.env_lines())
        if named() is not None:  # another business's: the database keeps its ids; the environment is the default's
            return ids
        os.environ.update(ids)
        wiring.reset()
        self._saved_environ |= {name: None for name in ids if name not in self._saved_environ}
        return ids

    def start_schedule(self, interval: float) -> None:
        """Invoke notion_sync and client_mail with a real EventBridge Scheduler event every `interval` seconds."""
        assert self.front_door is not None
        lambdas = self.front_door.lambdas

        def tick() -> None:
            while not self._stopping.wait(interval):
                for function in ("notion_sync", "client_mail"):  # each on its own EventBridge schedule in AWS
                    if self._stopping.is_set():
                        return
                    try:
                        lambdas.invoke(function, scheduled_event(), timeout_seconds=SCHEDULED_RUN_SECONDS)
                    except Exception:
                        if not self._stopping.is_set():  # a run cut short by Ctrl-C is no news
                            traceback.print_exc()

        self._scheduler = threading.Thread(target=tick, name="notion-sync-schedule", daemon=True)
        self._scheduler.start()

    def stop(self, *, wait: bool = True) -> None:
        """Stop everything, quietly: a scheduled run under way finishes first (it may still need the database),
        unless `wait` is False (a second Ctrl-C)."""
        self._stopping.set()
        if self._scheduler is not None and wait:
            self._scheduler.join(timeout=SCHEDULED_RUN_SECONDS)
        self._scheduler = None
        if self.front_door:
            self.front_door.stop()
        if self.notion:
            self.notion.stop()
        for business in self.businesses.values():
            if business.notion is not None:
                business.notion.stop()
        self.businesses = {}
        if self.s3:
            self.s3.stop()
        for name, value in self._saved_environ.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_environ = {}
        wiring.reset()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def dev_state(self) -> dict[str, Any]:
        """The keys of .atelier/dev.json (a stable interface); parts not started yet are null."""
        from atelier.notion.webhook import FileTokens

        assert self.front_door is not None
        logs = self.log_dir or (self.state_dir / "logs" if self.state_dir else None)
        state = {
            "api_url": self.front_door.url,
            "database_url": self.database_url,
            "notion_base_url": self.settings.get("NOTION_BASE_URL") or self.environ.get("NOTION_BASE_URL"),
            "notion_token": self.settings.get("NOTION_TOKEN") or self.environ.get("NOTION_TOKEN"),
            "notion_human_token": self.settings.get("NOTION_HUMAN_TOKEN"),
            "notion_parent_page_id": self.settings.get("NOTION_PARENT_PAGE_ID")
            or self.environ.get("NOTION_PARENT_PAGE_ID"),
            "s3_endpoint_url": self.s3.url if self.s3 else None,
            "deliverables_bucket": self.s3.bucket if self.s3 else None,
            "stripe_webhook_secret": self.settings["STRIPE_WEBHOOK_SECRET"],
            "supabase_webhook_secret": self.settings["SUPABASE_WEBHOOK_SECRET"],
            "stripe_api_base": self.settings.get("STRIPE_API_BASE") if self.stripe else None,
            "stripe_api_key": LOCAL_API_KEY if self.stripe else None,
            "notion_webhook_verification_token": FileTokens(self.webhook_token_file()).current(),
            "portal_jwt_secret": self.settings.get("PORTAL_JWT_SECRET"),
            "portal_link_secret": self.settings.get("PORTAL_LINK_SECRET"),
            "mail_from": self.settings.get("MAIL_FROM"),
            "ses_endpoint_url": self.settings.get("SES_ENDPOINT_URL"),
            # Which process serves it, and since when: `atelier status` and the next stack to stop read these.
            "pid": os.getpid(),
            "started_at": self._started_at,
            "log_dir": str(logs.resolve()) if logs else None,
        }
        return state | {"businesses": self._businesses_state(state)}

    def _businesses_state(self, top: dict[str, Any]) -> dict[str, Any]:
        """dev.json's `businesses`, by slug: the default's (its keys as at the top, no prefix), then each other's
        (as kept in the file, the handshake's token among them)."""
        from atelier.kernel.errors import ConfigurationError, DatabaseError

        try:
            kept = json.loads(self.dev_state_path().read_text()).get("businesses") or {}
        except (OSError, ValueError, AttributeError):
            kept = {}
        try:
            default = wiring.directory().default
        except (DatabaseError, ConfigurationError):  # no database yet: the default's entry waits for it
            return dict(kept)
        shared = (
            "api_url",
            "notion_base_url",
            "notion_token",
            "notion_human_token",
            "notion_parent_page_id",
            "stripe_webhook_secret",
            "stripe_api_key",
            "mail_from",
            "notion_webhook_verification_token",
        )
        sources = {e: os.environ.get(f"NOTION_{e.upper()}_DATA_SOURCE_ID") for e in ENTITY_NAMES}
        entry = {key: top[key] for key in shared} | {
            "name": default.name,
            "url_prefix": "",
            "data_sources": {e: i for e, i in sources.items() if i},
            "default": True,
        }
        others = {slug: dict(kept.get(slug) or {}) | b.state for slug, b in self.businesses.items()}
        return {default.slug: entry, **others}

    def write_dev_state(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.dev_state(), indent=2) + "\n")
        path.chmod(0o600)
