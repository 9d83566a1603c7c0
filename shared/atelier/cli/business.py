"""`atelier business`: the businesses this deployment serves. The first is the default; every other has its own
`/b/{slug}/` routes (or its own domain), Notion workspace, Stripe account and sender.

Every command that reads or writes business data takes `--business SLUG` (the default when it is not given)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from atelier import wiring
from atelier.cli.args import noun, verb
from atelier.cli.render import table
from atelier.kernel.business import SLUG

# `atelier business set` options: the setting each one writes (refs name secrets; never the secrets themselves).
SETTINGS = {
    "name": "its name, on every page and e-mail",
    "legal_name": "its legal name",
    "contact_email": "the address clients may write to",
    "address": "its postal address",
    "time_zone": "an IANA time zone, e.g. Europe/London",
    "brand_colour": "its colour, #rrggbb",
    "logo_key": "its logo: an https:// URL or a path on this API",
    "domain": "its own custom domain (API Gateway maps it), e.g. studio.example",
    "ses_sender": "its SES sender, e.g. 'KAA <hello@kaa.example>'",
    "stripe_secret_key_ref": "where its Stripe secret key is: a Secrets Manager ARN (or dev.json: key)",
    "stripe_webhook_secret_ref": "where its Stripe webhook secret is",
    "notion_token_ref": "where its Notion integration token is",
    "notion_webhook_token_ref": "where its Notion webhook verification token is",
    "notion_parent_page_id": "the Notion page its databases live under",
}


def _slug(value: str) -> str:
    if not SLUG.match(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a slug: 1-32 lowercase letters, digits or hyphens, e.g. kaa or north-studio"
        )
    return value


def add(args: argparse.Namespace) -> int:
    details = {k: v for k, v in vars(args).items() if k in SETTINGS and v is not None and k != "name"}
    row = wiring.database().rpc(
        "add_business", p_slug=args.slug, p_name=args.name, p_currency=args.currency, p_details=details
    )
    wiring.directory().forget()
    print(f"business: added {row['slug']} ({row['name']}, {row['currency']}), with a copy of the default's tiers")
    print(
        f"business: its routes are under /b/{row['slug']}/; set its secrets with `atelier business set {row['slug']}`"
    )
    return 0


def set_settings(args: argparse.Namespace) -> int:
    changes = {k: (v or None) for k, v in vars(args).items() if k in SETTINGS and v is not None}
    if not changes:
        print("business: nothing to change: give at least one option (`atelier business set --help`)")
        return 2
    row = wiring.database().rpc("set_business_settings", p_slug=args.slug, p_settings=changes)
    print(f"business: {row['slug']}: set {', '.join(sorted(changes))}")
    return 0


def list_businesses(args: argparse.Namespace) -> int:
    rows: list[dict[str, Any]] = wiring.database().rpc("business_directory") or []
    if args.json:
        print(json.dumps([{k: v for k, v in r.items() if not k.endswith("_ref")} | _refs(r) for r in rows], indent=2))
        return 0
    print(
        table(
            ("slug", "name", "currency", "address", "secrets"),
            [
                (
                    r["slug"] + (" (default)" if i == 0 else ""),
                    r["name"],
                    r["currency"],
                    f"https://{r['domain']}" if r.get("domain") else ("/" if i == 0 else f"/b/{r['slug']}/"),
                    ", ".join(k for k, on in _refs(r)["secrets"].items() if on) or "the deployment's",
                )
                for i, r in enumerate(rows)
            ],
            rule=True,
        )
    )
    return 0


def _refs(row: dict[str, Any]) -> dict[str, Any]:
    """Which secrets a business has a reference to (never the references' values)."""
    return {"secrets": {k.removesuffix("_ref"): bool(v) for k, v in row.items() if k.endswith("_ref")}}


def register(verbs: Any) -> None:
    actions = noun(verbs, "business", "the businesses this deployment serves", example="atelier business list")
    parser = verb(
        actions,
        "add",
        add,
        help="add a business (its catalogue starts as a copy of the default's)",
        example="atelier business add kaa --name 'KAA Studio' --currency usd",
    )
    parser.add_argument("slug", type=_slug, help="its short name in URLs: /b/SLUG/intake")
    parser.add_argument("--name", required=True, help="its name, as clients see it")
    parser.add_argument("--currency", default="usd", help="ISO 4217 code, lower case (default usd)")
    for key in ("legal_name", "contact_email", "address", "time_zone", "brand_colour", "domain", "ses_sender"):
        parser.add_argument(f"--{key.replace('_', '-')}", dest=key, help=SETTINGS[key])
    parser = verb(
        actions,
        "set",
        set_settings,
        help="change a business's settings, or where its secrets are",
        example="atelier business set kaa --ses-sender 'KAA <hello@kaa.example>'",
    )
    parser.add_argument("slug", type=_slug)
    for key, text in SETTINGS.items():
        parser.add_argument(f"--{key.replace('_', '-')}", dest=key, help=f"{text} ('' clears it)")
    parser = verb(
        actions, "list", list_businesses, help="the businesses, the default first", example="atelier business list"
    )
    parser.add_argument("--json", action="store_true", help="as JSON (secrets: whether each is set, never its value)")


BUSINESS_FREE = {
    ("dev",),
    ("demo",),
    ("business",),
    ("db",),
    ("status",),
    ("logs",),
    ("invoke",),
    ("doctor",),
    ("deploy",),
}


def add_business_option(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> None:
    """`--business SLUG` on every command that reads or writes one business's data."""
    runnable = parser.get_default("run") is not None
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                add_business_option(sub, (*path, name))
            if not runnable:
                return
    if path and path[:1] not in BUSINESS_FREE:
        parser.add_argument(
            "--business", metavar="SLUG", type=_slug, help="the business to work on (default: the default business)"
        )
