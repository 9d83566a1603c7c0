"""deliverable_download: `GET /deliverables/{id}/download?token=...` -> 302 to a fresh presigned S3 URL.

The links on Notion pages point here, so they never expire: the token is an HMAC of the deliverable's id,
and each click gets a presigned URL that lasts a few minutes.
"""

from __future__ import annotations

import uuid
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from atelier.db import Rpc, rpc_from_settings
from atelier.http import HttpProblem, answer_problems
from atelier.settings import DatabaseSettings, load
from atelier.storage import DownloadLinks, StorageSettings, presigned_download

JSON = "application/json"

settings = load(StorageSettings)
logger = Logger()
metrics = Metrics()
app = APIGatewayHttpResolver()


@lru_cache(maxsize=1)
def rpc() -> Rpc:
    return rpc_from_settings(load(DatabaseSettings))


@lru_cache(maxsize=1)
def links() -> DownloadLinks:
    return settings.links()


@lru_cache(maxsize=1)
def s3() -> Any:
    return settings.client()


def not_found(deliverable_id: str) -> HttpProblem:
    return HttpProblem(404, "not_found", f"There is no deliverable {deliverable_id}; check the link.")


@app.get("/deliverables/<deliverable_id>/download")
def download(deliverable_id: str) -> Response[str]:
    try:
        deliverable_id = str(uuid.UUID(deliverable_id))
    except ValueError:
        raise not_found(deliverable_id) from None
    refused = links().check(deliverable_id, app.current_event.get_query_string_value("token"))
    if refused:
        raise HttpProblem(403, "forbidden", f"This download link is not valid ({refused}); ask for a new one.")
    file = rpc().rpc("deliverable_file", p_id=deliverable_id)
    if not file or file.get("deleted"):
        raise not_found(deliverable_id)
    metrics.add_metric(name="DeliverableDownloaded", unit=MetricUnit.Count, value=1)
    return Response(302, JSON, "", headers={"Location": presigned_download(s3(), file), "Cache-Control": "no-store"})


answer_problems(
    app,
    logger,
    metrics,
    refused_metric="DownloadRefused",
    unavailable="Database unavailable; try the link again in a minute.",
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
