"""`atelier deploy secrets --stack NAME [--env-file FILE]`: the Secrets Manager secrets a deployment needs, created
or updated from prompts (never echoed) or from an env file, named `atelier/<stack>/<name>`. It prints each secret's
ARN under the template parameter that takes it, for `sam deploy --guided` or `--parameter-overrides`."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from atelier.cli.args import noun, verb
from atelier.kernel.errors import ConfigurationError

# The template parameter, the secret's name, the variable an env file gives it in, and what it is.
SECRETS = (
    ("SupabaseServiceKeySecretArn", "supabase-service-key", "SUPABASE_SERVICE_KEY", "Supabase's service_role key"),
    ("StripeSecretKeySecretArn", "stripe-secret-key", "STRIPE_SECRET_KEY", "Stripe's secret key (sk_...)"),
    ("StripeWebhookSecretArn", "stripe-webhook-secret", "STRIPE_WEBHOOK_SECRET", "the webhook's secret (whsec_...)"),
    ("NotionTokenSecretArn", "notion-token", "NOTION_TOKEN", "the Notion integration's token"),
    ("SupabaseWebhookSecretArn", "supabase-webhook-secret", "SUPABASE_WEBHOOK_SECRET", "the doorbell's secret"),
    ("DownloadTokenKeySecretArn", "download-token-key", "DOWNLOAD_TOKEN_KEY", "32+ random characters"),
    ("PortalJwtSecretArn", "portal-jwt-secret", "PORTAL_JWT_SECRET", "Supabase's JWT secret"),
)


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc.strerror}") from None
    for number, raw in enumerate(lines, 1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        name, sep, value = text.removeprefix("export ").partition("=")
        if not sep:
            raise ConfigurationError(f"{path}:{number}: expected NAME=value")
        values[name.strip()] = value.strip().strip("'\"")
    return values


def _value(name: str, about: str, given: dict[str, str], ask: bool) -> str | None:
    if given.get(name):
        return given[name]
    if not ask:
        return None
    entered = getpass.getpass(f"{name} ({about}; Enter to leave it as it is): ")
    return entered.strip() or None


def secrets(args: argparse.Namespace) -> int:
    import boto3

    given = read_env_file(Path(args.env_file)) if args.env_file else {}
    ask = not args.env_file and sys.stdin.isatty()
    client = boto3.client("secretsmanager")
    lines = []
    for parameter, short, name, about in SECRETS:
        secret_name = f"atelier/{args.stack}/{short}"
        value = _value(name, about, given, ask)
        arn = _put(client, secret_name, value) if value else _existing(client, secret_name)
        state = "set" if value else ("kept" if arn else "missing")
        print(f"{parameter}: {state}", file=sys.stderr)
        if arn:
            lines.append(f"{parameter}={arn}")
    print("\n".join(lines))
    missing = len(SECRETS) - len(lines)
    if missing:
        print(
            f"deploy secrets: {missing} secret(s) still missing: give them in --env-file or at the prompts",
            file=sys.stderr,
        )
        return 1
    return 0


def _existing(client: Any, name: str) -> str | None:
    try:
        return str(client.describe_secret(SecretId=name)["ARN"])
    except client.exceptions.ResourceNotFoundException:
        return None


def _put(client: Any, name: str, value: str) -> str:
    try:
        return str(client.put_secret_value(SecretId=name, SecretString=value)["ARN"])
    except client.exceptions.ResourceNotFoundException:
        return str(client.create_secret(Name=name, SecretString=value)["ARN"])


def register(verbs: Any) -> None:
    actions = noun(verbs, "deploy", "getting a deployment ready", example="atelier deploy secrets --stack atelier-prod")
    parser = verb(
        actions,
        "secrets",
        secrets,
        help="create or update the stack's Secrets Manager secrets (values never echoed); prints their ARNs",
        example="atelier deploy secrets --stack atelier-prod --env-file prod.env",
    )
    parser.add_argument("--stack", required=True, metavar="NAME", help="the stack's name (secrets: atelier/NAME/...)")
    parser.add_argument("--env-file", metavar="FILE", help="NAME=value lines (else you are asked, without echo)")
