"""`sam deploy --guided`, prompt by prompt: what each offers when the operator presses Enter must deploy.

SAM CLI's own code (in `.venv-tools`, where `make lint` installs it) reads the template as the guided deploy does,
so the prompts checked here are the ones an operator sees, not a copy of them.
"""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SAM_PYTHON = ROOT / ".venv-tools" / "bin" / "python"
GUIDED = """
import json, sys
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider
from samcli.commands.deploy.auth_utils import auth_per_resource
from samcli.lib.utils.defaults import get_default_aws_region
from samcli.commands.deploy.code_signer_utils import signer_config_per_function
overrides = json.loads(sys.argv[2])
stacks, _ = SamLocalStackProvider.get_stacks(sys.argv[1], parameter_overrides=overrides,
                                             global_parameter_overrides={"AWS::Region": "us-east-1"})
functions, layers = signer_config_per_function(stacks)
print(json.dumps({"auth": auth_per_resource(stacks), "signing": [list(functions), list(layers)]}))
"""


class _Loader(yaml.SafeLoader):
    """CloudFormation's short tags as plain values."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def _template() -> dict[str, Any]:
    return dict(yaml.load((ROOT / "template.yaml").read_text(), Loader=_Loader))  # noqa: S506 - a SafeLoader


def _answers() -> dict[str, str]:
    """What an operator types where a prompt has no default (the README's guide says what, for each)."""
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:atelier/x-AbCdEf"
    typed = {}
    for name, spec in _template()["Parameters"].items():
        if "Default" in spec:
            continue
        typed[name] = {"AlarmEmail": "ops@studio.example", "SupabaseUrl": "https://abc.supabase.co"}.get(
            name, arn if name.endswith("SecretArn") else "1f2e3d4c-0000-4000-8000-000000000000"
        )
    return typed


def test_every_parameter_default_is_one_cloudformation_accepts() -> None:
    for name, spec in _template()["Parameters"].items():
        if "Default" not in spec:
            assert spec.get("Description"), f"{name} has no default, so its prompt must say what to enter"
            continue
        default = str(spec["Default"])
        if "AllowedValues" in spec:
            assert default in [str(v) for v in spec["AllowedValues"]], name
        if "AllowedPattern" in spec:
            assert re.fullmatch(spec["AllowedPattern"], default), f"{name}'s default {default!r} breaks its pattern"


def test_samconfig_gives_the_guided_deploy_what_it_needs() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    deploy = config["default"]["deploy"]["parameters"]
    assert "CAPABILITY_IAM" in deploy["capabilities"]  # "Allow SAM CLI IAM role creation [Y/n]"
    assert deploy["resolve_s3"] is True  # the managed bucket: no bucket prompt
    assert config["default"]["global"]["parameters"]["stack_name"]  # "Stack Name [atelier]"


def test_no_guided_prompt_refuses_on_its_default() -> None:
    if not SAM_PYTHON.exists():
        pytest.skip("no SAM CLI in .venv-tools: `make lint` installs it")
    result = subprocess.run(
        [str(SAM_PYTHON), "-c", GUIDED, str(ROOT / "template.yaml"), json.dumps(_answers())],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    # "<Function> has no authentication. Is this okay? [y/N]": Enter says no, and the deploy stops.
    unauthenticated = [name for name, authorized in found["auth"] if not authorized]
    assert unauthenticated == [], f"these would stop the guided deploy on Enter: {unauthenticated}"
    assert len(found["auth"]) >= 8  # every HTTP route was looked at
    assert found["signing"] == [[], []]  # no "Do you want to sign your code?" prompt


def test_the_readme_walks_every_parameter_prompt_in_order() -> None:
    readme = (ROOT / "README.md").read_text()
    prompted = re.findall(r"^\| `Parameter (\w+)` \|", readme, flags=re.MULTILINE)
    assert prompted == list(_template()["Parameters"]), "README's guided-deploy table is out of step with the template"


def test_every_required_parameter_refuses_an_empty_or_malformed_answer() -> None:
    typed = _answers()
    for name, spec in _template()["Parameters"].items():
        if "Default" in spec:
            continue
        pattern = spec.get("AllowedPattern")
        assert pattern, f"{name} is required, so a pattern must refuse a wrong answer at once"
        assert not re.fullmatch(pattern, ""), f"{name} takes an empty answer"
        assert not re.fullmatch(pattern, "not-an-arn or address"), f"{name} takes anything"
        assert re.fullmatch(pattern, typed[name]), f"{name} refuses a good answer: {typed[name]}"
