"""The local run's S3: moto's server, a deliverables bucket set up as in template.yaml, and its notifications.

The bucket notifies a queue (moto sends S3's event JSON there), and a worker invokes `deliverable_uploaded`
with each event, as S3 invokes the function in AWS. moto's records lack three things AWS sends: the
object's `versionId`, the `sequencer` and the request fields. The worker adds them (the version is read
back from the bucket), so the handler sees what it would see in AWS. A failed invocation is retried
twice, then kept in `dead_letters`, like Lambda's asynchronous retries and its dead-letter queue.

The files live in memory: after a restart of `make dev`, the deliverables recorded before it are still in
Postgres and Notion, but their files are gone until uploaded again.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import logging
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

REGION = "us-east-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": REGION}
QUEUE = "deliverables-uploaded"
ATTEMPTS = 3  # Lambda's asynchronous invocation: the first try and two retries
IDLE_PAUSES = (0.05, 0.5)  # seconds between polls of an idle queue: first, and at most


@dataclass
class LocalS3:
    invoke: Callable[[dict[str, Any]], Any]  # the function S3 notifies
    bucket: str = field(default_factory=lambda: f"atelier-deliverables-{uuid.uuid4().hex[:8]}")
    host: str = "127.0.0.1"
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    delivered: list[dict[str, Any]] = field(default_factory=list)  # every event the function was given
    _worker: threading.Thread | None = None
    _stopping: threading.Event = field(default_factory=threading.Event)
    _idle: threading.Event = field(default_factory=threading.Event)
    _wake: threading.Event = field(default_factory=threading.Event)
    _sequence: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _seen_versions: set[tuple[str, str]] = field(default_factory=set)
    _events: dict[str, dict[str, Any]] = field(default_factory=dict)  # by SQS message id
    _queue_url: str = ""
    _s3: S3Client | None = None
    _sqs: SQSClient | None = None
    url: str = ""

    def start(self) -> LocalS3:
        self.url = _server_url(self.host)
        s3, sqs = self.s3(), self.sqs()
        # Each stack has its own bucket and queue (tests run several stacks in one process, on one server).
        queue = f"{QUEUE}-{uuid.uuid4().hex[:8]}"
        self._queue_url = sqs.create_queue(QueueName=queue, Attributes={"VisibilityTimeout": "2"})["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        s3.create_bucket(Bucket=self.bucket)
        s3.put_bucket_versioning(Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_public_access_block(
            Bucket=self.bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        s3.put_bucket_notification_configuration(
            Bucket=self.bucket,
            NotificationConfiguration={
                # As the template's two S3 events: the default business's files, and other businesses' (b/<slug>/)
                "QueueConfigurations": [
                    {
                        "QueueArn": queue_arn,
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
                    }
                    for prefix in ("projects/", "b/")
                ]
            },
        )
        self._worker = threading.Thread(target=self._work, name="s3-notifications", daemon=True)
        self._worker.start()
        return self

    def _client_args(self) -> dict[str, Any]:
        from botocore.config import Config

        return {
            "endpoint_url": self.url,
            "region_name": REGION,
            "aws_access_key_id": "local",
            "aws_secret_access_key": "local",
            "config": Config(signature_version="s3v4"),
        }

    def s3(self) -> S3Client:
        """A client of this S3, made once (boto3 clients are safe to share between threads)."""
        import boto3

        if self._s3 is None:
            self._s3 = boto3.client("s3", **self._client_args())
        return self._s3

    def sqs(self) -> SQSClient:
        import boto3

        if self._sqs is None:
            self._sqs = boto3.client("sqs", **self._client_args())
        return self._sqs

    def stop(self) -> None:
        """Stop delivering; the server lives as long as the process (it starts in ~2 s, so it starts once)."""
        self._stopping.set()
        self._wake.set()
        if self._worker:
            self._worker.join(timeout=5)
        with contextlib.suppress(Exception):
            self.s3().put_bucket_notification_configuration(Bucket=self.bucket, NotificationConfiguration={})

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """True once every notification so far has been handled (tests and the demo wait on this)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._idle.clear()
            self._wake.set()  # look now, not after the idle worker's pause
            attributes = self.sqs().get_queue_attributes(
                QueueUrl=self._queue_url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            # A failed message waiting for its retry is in neither count at the moment it becomes visible again.
            waiting = bool(self._events)
            if not waiting and not any(int(v) for v in attributes.values()) and self._idle.wait(2.0):
                return True
        return False

    # -- the notifications worker -----------------------------------------------------------------

    def _work(self) -> None:
        """Poll the queue: often after an upload, then less and less often (at most twice a second) while idle,
        so that an idle worker costs the process next to nothing."""
        sqs = self.sqs()
        pause = IDLE_PAUSES[0]
        while not self._stopping.is_set():
            try:
                received = sqs.receive_message(
                    QueueUrl=self._queue_url,
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=0,
                    MessageSystemAttributeNames=["ApproximateReceiveCount"],
                )
            except Exception:
                if not self._stopping.is_set():
                    traceback.print_exc()
                self._stopping.wait(IDLE_PAUSES[1])
                continue
            messages = received.get("Messages", [])
            if not messages:
                self._idle.set()
                self._wake.wait(pause)
                self._wake.clear()
                pause = min(pause * 2, IDLE_PAUSES[1])
                continue
            pause = IDLE_PAUSES[0]
            for message in messages:
                try:
                    done = self._deliver(dict(message))
                except Exception:  # a message the notifier cannot read: dropped after its attempts, thread kept
                    traceback.print_exc()
                    done = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1")) >= ATTEMPTS
                if done:
                    self._events.pop(message["MessageId"], None)
                    sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])

    def _deliver(self, message: dict[str, Any]) -> bool:
        """True when the message is done with: handled, a test event, or out of attempts."""
        body = json.loads(message["Body"])
        if body.get("Event") == "s3:TestEvent":
            return True
        # A retry delivers the same event as the first attempt did (same version, same sequencer).
        event = self._events.get(message["MessageId"])
        if event is None:
            event = self._events[message["MessageId"]] = self._completed(body)
        self.delivered.append(event)
        try:
            self.invoke(event)
            return True
        except Exception:
            traceback.print_exc()
            if int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1")) >= ATTEMPTS:
                self.dead_letters.append(event)
                return True
            return False  # visible again after the timeout: the next attempt

    def _completed(self, body: dict[str, Any]) -> dict[str, Any]:
        """The record as AWS sends it: with the object's version, a sequencer and the request's fields."""
        event = copy.deepcopy(body)
        for record in event.get("Records", []):
            obj = record["s3"]["object"]
            key = unquote_plus(obj["key"])
            obj["key"] = _aws_quote(key)
            version = self._version_of(key, str(obj.get("eTag", "")))
            if version and "versionId" not in obj:
                obj["versionId"] = version
            obj.setdefault("sequencer", f"{next(self._sequence):016X}")
            record.setdefault("userIdentity", {"principalId": "AWS:LOCAL"})
            record.setdefault("requestParameters", {"sourceIPAddress": "127.0.0.1"})
            record.setdefault("responseElements", {"x-amz-request-id": "LOCAL", "x-amz-id-2": "LOCAL"})
        return event

    def _version_of(self, key: str, etag: str) -> str | None:
        """The oldest version of the key with this content not yet notified: the upload this record is about.
        None when moto cannot list it (a key it stored but chokes on): the record goes without a version, and the
        notifier thread lives on for every upload after it."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            versions = self.s3().list_object_versions(Bucket=self.bucket, Prefix=key).get("Versions", [])
        except (BotoCoreError, ClientError):
            traceback.print_exc()
            return None
        mine = [
            v
            for v in versions
            if v["Key"] == key and v["ETag"].strip('"') == etag and (key, v["VersionId"]) not in self._seen_versions
        ]
        if not mine:
            return None
        chosen = mine[-1]  # S3 lists a key's versions newest first
        self._seen_versions.add((key, chosen["VersionId"]))
        return chosen["VersionId"]


_SERVERS: dict[str, str] = {}
_SERVERS_LOCK = threading.Lock()


def _server_url(host: str) -> str:
    """moto's server for this process on `host`, started on first use."""
    from moto.server import ThreadedMotoServer

    with _SERVERS_LOCK:
        if host not in _SERVERS:
            logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
            server = ThreadedMotoServer(ip_address=host, port=0, verbose=False)
            server.start()
            bound_host, port = server.get_host_and_port()
            _SERVERS[host] = f"http://{bound_host}:{port}"
        return _SERVERS[host]


def _aws_quote(key: str) -> str:
    """S3's own encoding of keys in events: like quote_plus, but `/` stays as it is."""
    from urllib.parse import quote_plus

    return quote_plus(key, safe="/")
