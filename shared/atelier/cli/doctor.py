"""`atelier doctor [--stack NAME]`: are the settings right? Locally: every part answers (`atelier status`) and the
Notion token sees its data sources. With `--stack NAME`, a deployed stack's: every secret its parameters name
resolves, the Notion token sees the data sources, Stripe has an endpoint for the stack's webhook, and SES's sender is
verified. Each finding says what to do; exit 1 when there is one."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from atelier import wiring
from atelier.cli.args import verb
from atelier.cli.render import table
from atelier.kernel.errors import AtelierError, ConfigurationError

ENTITIES = ("Lead", "Client", "Project", "Milestone", "Deliverable", "Task", "Service", "Message")


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    said: str  # what was seen, or what to do


def _secret(client: Any, arn: str) -> str | None:
    """A secret's value, never shown: None when it does not resolve."""
    try:
        return str(client.get_secret_value(SecretId=arn)["SecretString"])
    except Exception:  # any refusal is the finding
        return None


def stack_parameters(name: str) -> dict[str, str]:
    """A deployed stack's parameters and outputs, by key."""
    import boto3

    try:
        found = boto3.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    except Exception as exc:
        raise ConfigurationError(
            f"cannot read stack {name!r}: {type(exc).__name__}; check its name and region"
        ) from exc
    values = {p["ParameterKey"]: str(p.get("ParameterValue") or "") for p in found.get("Parameters", [])}
    return values | {o["OutputKey"]: str(o.get("OutputValue") or "") for o in found.get("Outputs", [])}


def deployed(parameters: dict[str, str], notion_get: Callable[[str, str], int] | None = None) -> list[Finding]:
    """The findings for a deployed stack's parameters (secrets through Secrets Manager, never printed)."""
    import boto3

    secrets = boto3.client("secretsmanager")
    findings = []
    values: dict[str, str | None] = {}
    for key, arn in sorted(parameters.items()):
        if not key.endswith("SecretArn") or not arn:
            continue
        values[key] = _secret(secrets, arn)
        findings.append(
            Finding(
                f"secret {key}",
                values[key] is not None,
                "resolves" if values[key] else f"{arn} does not resolve: create it (`atelier deploy secrets`)",
            )
        )
    token = values.get("NotionTokenSecretArn")
    if token:
        get = notion_get or _notion_get
        for entity in ENTITIES:
            source = parameters.get(f"Notion{entity}DataSourceId", "")
            status = get(token, source) if source else 0
            findings.append(
                Finding(
                    f"notion {entity.lower()}s",
                    status == 200,
                    "the token sees it"
                    if status == 200
                    else f"Notion answered {status or 'nothing'} for {source or '(no id)'}: share the database "
                    "with the integration, or run `atelier notion setup` and deploy its ids",
                )
            )
    sender = parameters.get("MailFrom", "")
    if sender:
        findings.append(_ses(sender))
    return findings


def _notion_get(token: str, source: str) -> int:
    import httpx

    headers = {"Authorization": f"Bearer {token}", "Notion-Version": "2025-09-03"}
    try:
        return httpx.get(f"https://api.notion.com/v1/data_sources/{source}", headers=headers, timeout=10).status_code
    except httpx.HTTPError:
        return 0


def _ses(sender: str) -> Finding:
    import boto3

    try:
        identity = boto3.client("sesv2").get_email_identity(EmailIdentity=sender)
        verified = bool(identity.get("VerifiedForSendingStatus"))
    except Exception:
        verified = False
    said = "verified" if verified else f"{sender} is not a verified SES identity: verify it in the SES console"
    return Finding("ses sender", verified, said)


def local() -> list[Finding]:
    from atelier.cli.status import parts
    from atelier.kernel.settings import read_dev_state

    findings = [
        Finding(p.name, p.answers, p.version if p.answers else f"{p.detail}: is `make dev` running?")
        for p in parts(read_dev_state())
    ]
    try:
        sources = wiring.data_sources()
        notion = wiring.notion()
        for entity, source in sources.items():
            notion.retrieve_data_source(source)
            findings.append(Finding(f"notion {entity}s", True, "the token sees it"))
    except AtelierError as exc:
        findings.append(Finding("notion", False, f"{exc}"))
    return findings


def doctor(args: argparse.Namespace) -> int:
    findings = deployed(stack_parameters(args.stack)) if args.stack else local()
    if args.json:
        print(json.dumps([f.__dict__ for f in findings], indent=2))
    else:
        print(
            table(
                ("check", "ok", "what was seen, or what to do"),
                [(f.check, "ok" if f.ok else "no", f.said) for f in findings],
                rule=True,
            )
        )
    bad = [f for f in findings if not f.ok]
    if not args.json:
        print(f"doctor: {len(bad)} finding(s)" if bad else "doctor: all well")
    return 1 if bad else 0


def register(verbs: Any) -> None:
    parser = verb(
        verbs,
        "doctor",
        doctor,
        help="check the settings (local, or a deployed stack's with --stack): each finding says what to do",
        example="atelier doctor --stack atelier-prod",
    )
    parser.add_argument("--stack", metavar="NAME", help="a deployed CloudFormation stack")
    parser.add_argument("--json", action="store_true", help="as JSON, for scripts")
