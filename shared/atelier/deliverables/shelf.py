"""The project's receipts and invoices as files, kept beside its deliverables (`projects/<id>/documents/<number>.pdf`,
never taken for a deliverable): a document is written once, when it is first made, and read from there after, so
that what a client downloads later is the very document they were sent."""

from __future__ import annotations

from collections.abc import Callable

from atelier.deliverables.keys import document_key
from atelier.deliverables.store import ObjectStore


class DocumentShelf:
    def __init__(self, store: ObjectStore, bucket: Callable[[], str], business: str | None = None) -> None:
        self._store, self._bucket, self._business = store, bucket, business  # the bucket: read when first needed

    def keep(self, project_id: str, number: str, make: Callable[[], bytes]) -> bytes:
        """The document's bytes: as kept, or made by `make` now and kept."""
        bucket, key = self._bucket(), document_key(project_id, number, business=self._business)
        if self._store.head(bucket, key, None) is not None:
            return self._store.read({"bucket": bucket, "key": key, "version_id": None})
        data = make()
        self._store.put(bucket, key, data, "application/pdf")
        return data
