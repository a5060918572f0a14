"""Start-up wiring: the subscriptions by which higher packages react to lower ones' events.

Lower packages announce (`records.hooks`) and never import their subscribers; this module, at
the top with the app factory and the CLI, installs every subscriber in a fixed order (activity
first, then workflows, as the calls were written before the hooks). Every entry point calls
`install()`: the app factory, the CLI, the demo loader, `python -m bench`, the tests. It is
idempotent, and a hook announced before it ran raises (`kit.hooks.HooksNotInstalledError`), so a
forgotten entry point fails at once instead of skipping the change log or a workflow check.

It also registers the record page's panels that live above `records` (`records.page_panels`):
the workflow, activity, pipeline (lead nominations, deal registrations), ideas, links
(campaign attribution, solution links) and files panels, rendered with the page rather than
fetched after it; and the kinds of subject files can be attached to (`attachments.subjects`):
records, comments from `activity`, and fund claims' proof of performance from `funds`
(which also makes a claim's submission require a proof file: `funds.proof`); and the return on
a fund's source, campaign attribution in the budget's currency (`funds.attribution`).
"""

from __future__ import annotations

from coterie.activity import attachment_subjects as activity_attachment_subjects
from coterie.activity import pages as activity_pages
from coterie.activity import subscriptions as activity_subscriptions
from coterie.attachments import pages as attachment_pages
from coterie.attachments import record_subjects as attachment_record_subjects
from coterie.cosell.campaigns import pages as campaign_pages
from coterie.cosell.ideas import notices as idea_notices
from coterie.cosell.ideas import pages as ideas_pages
from coterie.cosell.pipeline import pages as pipeline_pages
from coterie.cosell.planning import new_forms as planning_new_forms
from coterie.cosell.planning import pages as planning_pages
from coterie.funds import attribution as fund_attribution
from coterie.funds import claim_files as fund_claim_files
from coterie.funds import roi as fund_roi
from coterie.records import page_panels
from coterie.sync import queueing as sync_queueing
from coterie.workflows import pages as workflow_pages
from coterie.workflows import stage_choices as workflow_stage_choices
from coterie.workflows import subscriptions as workflow_subscriptions


def install() -> None:
    activity_subscriptions.install()
    workflow_subscriptions.install()
    sync_queueing.install()
    workflow_stage_choices.install()  # the stage select of my space's forms
    planning_new_forms.install()  # a new program's or plan's own inputs
    page_panels.provide("workflow", workflow_pages.record_panel)
    page_panels.provide("activity", activity_pages.record_panel)
    page_panels.provide("pipeline", pipeline_pages.record_panel)
    page_panels.provide("cosell", planning_pages.record_panel)
    page_panels.provide("ideas", ideas_pages.record_panel)
    idea_notices.install()  # what idea notifications quote
    page_panels.provide("links", campaign_pages.record_panel)
    attachment_record_subjects.install()  # records' files (coterie.attachments.subjects)
    activity_attachment_subjects.install()  # comments' files
    page_panels.provide("attachments", attachment_pages.record_panel)
    fund_claim_files.install()  # fund claims' proof files; submitting a claim requires one
    fund_roi.install_influence(fund_attribution.influence)  # return on a fund, by campaign
