"""The local S3's notifications behave as S3 -> Lambda does: real-shaped events, retries, then dead letters."""

from __future__ import annotations

from typing import Any

from atelier_local.s3_local import ATTEMPTS, LocalS3


def test_an_upload_becomes_an_s3_event_with_version_and_sequencer() -> None:
    seen: list[dict[str, Any]] = []
    s3 = LocalS3(seen.append).start()
    try:
        version = s3.s3().put_object(Bucket=s3.bucket, Key="projects/p/Photo/a b.png", Body=b"x")["VersionId"]
        s3.s3().put_object(Bucket=s3.bucket, Key="elsewhere/a.png", Body=b"x")  # not under projects/
        assert s3.wait_idle()
    finally:
        s3.stop()
    (event,) = seen
    (record,) = event["Records"]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["bucket"]["name"] == s3.bucket
    obj = record["s3"]["object"]
    assert (obj["key"], obj["size"], obj["versionId"]) == ("projects/p/Photo/a+b.png", 1, version)
    assert len(obj["sequencer"]) == 16


def test_a_failed_invocation_is_retried_with_the_same_event() -> None:
    calls: list[dict[str, Any]] = []

    def flaky(event: dict[str, Any]) -> None:
        calls.append(event)
        if len(calls) == 1:
            raise RuntimeError("the database is restarting")

    s3 = LocalS3(flaky).start()
    try:
        s3.s3().put_object(Bucket=s3.bucket, Key="projects/p/Photo/a.png", Body=b"x")
        s3.s3().put_object(Bucket=s3.bucket, Key="projects/p/Photo/a.png", Body=b"x")  # same content, v2
        assert s3.wait_idle()
    finally:
        s3.stop()
    assert len(calls) == 3  # v1 fails, v2, then v1 again once its message is visible again
    assert calls[2] == calls[0]  # the retry: same version, same sequencer, so the handler dedupes it
    versions = [c["Records"][0]["s3"]["object"]["versionId"] for c in calls]
    assert versions[0] != versions[1]
    assert s3.dead_letters == []


def test_an_event_that_keeps_failing_ends_in_the_dead_letters() -> None:
    calls: list[dict[str, Any]] = []

    def broken(event: dict[str, Any]) -> None:
        calls.append(event)
        raise RuntimeError("misconfigured")

    s3 = LocalS3(broken).start()
    try:
        s3.s3().put_object(Bucket=s3.bucket, Key="projects/p/Photo/a.png", Body=b"x")
        assert s3.wait_idle()
    finally:
        s3.stop()
    assert len(calls) == ATTEMPTS
    assert s3.dead_letters == [calls[0]]
