"""`atelier deliverable upload`: put a file in the deliverables bucket; its Notion page follows."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from atelier import wiring
from atelier.cli.args import noun, number_in, verb
from atelier.cli.render import first_line
from atelier.deliverables.keys import CATEGORIES
from atelier.kernel.errors import ConfigurationError, DatabaseUnavailable
from atelier.kernel.settings import DatabaseSettings


def upload(args: argparse.Namespace) -> int:
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import BotoCoreError, ClientError

    from atelier.cli.progress import Progress
    from atelier.deliverables.keys import DeliverableKey, guess_type
    from atelier.deliverables.store import StorageSettings
    from atelier.kernel.business import named

    try:
        project_id = str(uuid.UUID(args.project_id))
    except ValueError:
        raise ConfigurationError(f"{args.project_id!r} is not a project id (a uuid)") from None
    path = Path(args.file)
    if not path.is_file():
        raise ConfigurationError(f"{path} is not a file")
    database = wiring.settings(DatabaseSettings)
    database_known = bool(database.database_url or database.database_url_secret or database.supabase_url)
    if database_known and not args.force and _project_state(project_id) != "live":
        raise ConfigurationError(
            f"there is no live project {project_id}: check the id (`--force` uploads anyway, "
            "and the upload is kept as an orphan in the audit log)"
        )
    settings = wiring.settings(StorageSettings)
    bucket = settings.bucket()
    business = named()  # another business's files are under b/<slug>/
    slug = business.slug if business else None
    key = DeliverableKey.make(project_id, args.category, args.name or path.name, business=slug)
    content_type = guess_type(path.name)
    s3 = wiring.s3()
    size = path.stat().st_size
    uploader = _ascii(args.uploaded_by or os.environ.get("ATELIER_USER") or getpass.getuser())
    progress = Progress(size, f"uploading {path.name}")
    try:
        s3.upload_file(
            str(path),
            bucket,
            key,
            Callback=progress.advance,
            ExtraArgs={"ContentType": content_type, "Metadata": {"uploaded-by": uploader}},
        )
        version = s3.head_object(Bucket=bucket, Key=key).get("VersionId")
    except (BotoCoreError, ClientError, S3UploadFailedError) as exc:
        raise ConfigurationError(
            f"could not upload to s3://{bucket}: {first_line(exc)} - is `make dev` running, "
            "or are your AWS credentials and DELIVERABLES_BUCKET right?"
        ) from None
    progress.finish(f"({size} bytes)")
    print(f"uploaded s3://{bucket}/{key} ({content_type}, version {version or '-'})")
    if not database_known or args.wait <= 0:
        print("the deliverable is recorded when S3 notifies deliverable_uploaded")
        return 0
    found = _wait_for_deliverable(bucket, key, version, seconds=args.wait)
    if found:
        print(f"deliverable {found['id']} (version {found['version']})")
        print(f"download:   {found['file_url']}")
        return 0
    print(
        f"atelier: not recorded within {args.wait:.0f} s; is `make dev` running? see .atelier/logs/"
        "deliverable_uploaded.log",
        file=sys.stderr,
    )
    return 1


def _ascii(text: str) -> str:
    """S3 metadata values travel as HTTP headers: ASCII only."""
    return text.encode("ascii", "replace").decode()[:200]


def _project_state(project_id: str) -> str:
    try:
        return str(wiring.rpc().rpc("project_state", p_id=project_id))
    except DatabaseUnavailable as exc:
        raise ConfigurationError(
            f"cannot reach the database to check the project ({first_line(exc)}); "
            "start `make dev`, or pass --force to upload without the check"
        ) from None


def _wait_for_deliverable(bucket: str, key: str, version: str | None, *, seconds: float) -> dict[str, Any] | None:
    """The deliverable row for this upload, once S3's event has been handled; None if not within `seconds`."""
    deadline = time.monotonic() + seconds
    rpc = wiring.rpc()
    while True:
        found = rpc.rpc("find_deliverable", p_bucket=bucket, p_key=key, p_version_id=version)
        if found or time.monotonic() >= deadline:
            return dict(found) if found else None
        time.sleep(0.3)


def register(verbs: Any) -> None:
    actions = noun(
        verbs,
        "deliverable",
        "files for clients",
        example="atelier deliverable upload PROJECT_ID plan.pdf --category Drawing",
    )
    parser = verb(
        actions,
        "upload",
        upload,
        help="put a file in the deliverables bucket; its Notion page follows",
        example="atelier deliverable upload 7d0c...e21 elevation.png --category Photo",
    )
    parser.add_argument("project_id", metavar="PROJECT_ID")
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--category", default="Document", choices=CATEGORIES, help="default Document")
    parser.add_argument("--name", help="the file's name in the bucket and on Notion (default: FILE's name)")
    parser.add_argument("--uploaded-by", help="who uploaded it (default $ATELIER_USER, else your login)")
    parser.add_argument(
        "--wait",
        type=number_in(float, 0.0, 600.0),
        default=30.0,
        help="seconds to wait for the deliverable row when the database is known (0: don't)",
    )
    parser.add_argument("--force", action="store_true", help="upload even when the project is unknown")
