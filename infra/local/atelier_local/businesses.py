"""More businesses on the local stack, as a deployment serves them: each has its own emulated Notion workspace
(an emulator of its own, its own tokens and limit), its own Stripe stand-in account and webhook secret, and its
own sender. Its secrets live in dev.json under `businesses.<slug>`, and the database refers to them there
(`dev.json:businesses.<slug>.<key>`), as it refers to Secrets Manager ARNs in AWS."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atelier import wiring
from atelier_local.mail_local import verify_sender
from atelier_local.notion_emulator import Faults, NotionEmulator

if TYPE_CHECKING:
    from collections.abc import Callable

    from atelier_local.stack import LocalStack

# What the database refers to, and where in dev.json's `businesses.<slug>` the value is.
REFS = {
    "stripe_secret_key_ref": "stripe_api_key",
    "stripe_webhook_secret_ref": "stripe_webhook_secret",
    "notion_token_ref": "notion_token",
    "notion_webhook_token_ref": "notion_webhook_verification_token",
}


@dataclass
class LocalBusiness:
    slug: str
    name: str
    notion: NotionEmulator | None
    state: dict[str, Any] = field(default_factory=dict, repr=False)  # holds secrets: dev.json's businesses.<slug>


def add_business(
    stack: LocalStack, slug: str, name: str, *, colour: str = "#7a3b69", say: Callable[[str], None] = lambda _: None
) -> LocalBusiness:
    """Start `slug` (adding it to the database when it is new) with its own Notion, Stripe account and sender,
    and set up its Notion databases."""
    assert stack.front_door is not None
    assert stack.s3 is not None
    database = wiring.database()
    if not any(b["slug"] == slug for b in database.rpc("business_directory") or []):
        database.rpc("add_business", p_slug=slug, p_name=name, p_details={"brand_colour": colour})
        say(f"business: added {slug} ({name})")
    url = stack.front_door.url
    state: dict[str, Any] = {"name": name, "url_prefix": f"/b/{slug}", "api_url": f"{url}/b/{slug}"}
    notion = None
    if stack.notion is not None:  # the emulator: a workspace of its own, with its own tokens and limit
        faults = Faults(rate_per_second=stack.notion_rate, burst=stack.notion_rate * 3)
        state_file = stack.state_dir / f"notion-{slug}.json" if stack.state_dir else None
        notion = NotionEmulator(
            stack.host,
            0,
            faults=faults,
            state_file=state_file,
            bot_token=f"secret_{slug}_{secrets.token_hex(12)}",
            human_token=f"human_{slug}_{secrets.token_hex(12)}",
        ).start()
        state |= {
            "notion_base_url": notion.url,
            "notion_token": notion.state.bot_token,
            "notion_human_token": notion.state.human_token,
            "notion_parent_page_id": notion.parent_page_id,
        }
    if stack.stripe is not None:
        api_key = f"sk_test_local_{slug}_{secrets.token_hex(8)}"
        webhook_secret = f"whsec_{secrets.token_hex(16)}"
        stack.stripe.add_account(api_key, f"/b/{slug}/webhooks/stripe", webhook_secret)
        state |= {"stripe_api_key": api_key, "stripe_webhook_secret": webhook_secret}
    sender = f"{name} <hello@{slug}.atelier.local>"
    verify_sender(stack.s3.url, sender)
    state["mail_from"] = sender
    business = LocalBusiness(slug, name, notion, state)
    stack.businesses[slug] = business
    save(stack.dev_state_path(), slug, state)
    settings = {
        "ses_sender": sender,
        "notion_parent_page_id": state.get("notion_parent_page_id"),
        "notion_base_url": state.get("notion_base_url"),
    }
    settings |= {ref: f"dev.json:businesses.{slug}.{key}" for ref, key in REFS.items()}
    if stack.stripe is None:  # real Stripe: its keys are the operator's to set (`atelier business set`)
        settings = {k: v for k, v in settings.items() if not k.startswith("stripe_")}
    database.rpc("set_business_settings", p_slug=slug, p_settings=settings)
    wiring.reset()
    if notion is not None:
        with wiring.in_business(slug):
            stack.setup_notion(say=say)
            state["data_sources"] = dict(wiring.data_sources())
        save(stack.dev_state_path(), slug, state)
    return business


def save(path: Path, slug: str, state: dict[str, Any]) -> None:
    """Put `businesses.<slug>` into dev.json, beside what it holds (the handshake's tokens among them)."""
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        data = {}
    businesses = dict(data.get("businesses") or {})
    kept = {k: v for k, v in (businesses.get(slug) or {}).items() if k == REFS["notion_webhook_token_ref"]}
    businesses[slug] = {**state, **kept}
    data["businesses"] = businesses
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(data, indent=2) + "\n")
    temporary.chmod(0o600)
    temporary.replace(path)
