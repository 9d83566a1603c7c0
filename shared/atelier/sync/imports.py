"""`atelier import-notion`: every page the team made in Notion (no Atelier ID), in every data source, through the
same matching the sync uses (`sync.adopt`): leads routed as the form would, clients matched by e-mail, projects,
milestones and deliverables linked to the record they stand for. `dry_run` reads and writes nothing: the plan."""

from __future__ import annotations

from atelier.kernel.progress import MeterFactory
from atelier.notion.codec import unlinked_filter
from atelier.sync.adopt import Adopter, AdoptReport, Plan
from atelier.sync.mapping import ENTITIES
from atelier.sync.records import SyncPorts


def import_notion(ports: SyncPorts, progress: MeterFactory, *, dry_run: bool = False) -> AdoptReport:
    """Parents first (a client before its projects), so that a project's client is linked before it is matched.
    The pages are found first (one query per data source, 100 a page), then each is matched, with a progress bar."""
    found = [
        (
            entity,
            list(ports.notion.query(ports.data_sources[entity.name], filter=unlinked_filter(ports.ids(entity.name)))),
        )
        for entity in ENTITIES
    ]
    bar = progress(sum(len(pages) for _, pages in found))
    report = AdoptReport()
    adopter = Adopter(ports)

    def step(plan: Plan) -> None:
        bar.advance(note=f"{plan.entity}: {plan.title[:40]}")

    for entity, pages in found:
        report.plans += adopter.adopt(entity, pages, dry_run=dry_run, advance=step).plans
    verb = "would be" if dry_run else "were"
    bar.finish(
        f"{report.count('create')} {verb} added, {report.count('link')} {verb} linked, "
        f"{report.count('skip')} left for the team"
    )
    return report
