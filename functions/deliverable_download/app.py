"""deliverable_download: `GET /deliverables/{id}/download?token=...` -> 302 to a fresh presigned S3 URL.

The links on Notion pages point here, so they never expire: the token is an HMAC of the deliverable's id,
and each click gets a presigned URL that lasts a few minutes.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from atelier import wiring
from atelier.deliverables.links import download_target
from atelier.deliverables.store import StorageSettings
from atelier.kernel.telemetry import count
from atelier.web.http import answer_problems

wiring.settings(StorageSettings)  # validated at cold start
# A logger of its own: where functions share a process (locally), their log keys never cross.
logger, metrics = Logger(service="atelier-deliverable_download"), Metrics()
app = APIGatewayHttpResolver()


@app.get("/deliverables/<deliverable_id>/download")
def download(deliverable_id: str) -> Response[str]:
    token = app.current_event.get_query_string_value("token")
    location = download_target(wiring.rpc(), wiring.object_store(), wiring.download_links(), deliverable_id, token)
    count(metrics, "DeliverableDownloaded")
    return Response(302, "application/json", "", headers={"Location": location, "Cache-Control": "no-store"})


answer_problems(
    app, logger, metrics, refused="DownloadRefused", unavailable="Database unavailable; try the link again in a minute."
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return wiring.serve(app, event, context)
