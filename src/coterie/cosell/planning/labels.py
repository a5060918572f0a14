"""How co-selling vocabulary reads on pages: goal metrics, program types, profile statuses."""

from __future__ import annotations

from coterie.cosell.schemas import Metric, Status

METRIC_LABELS = {
    Metric.PIPELINE_VALUE.value: "Pipeline value",
    Metric.CLOSED_REVENUE.value: "Closed revenue",
    Metric.OPPORTUNITY_COUNT.value: "Number of opportunities",
    Metric.LEAD_COUNT.value: "Number of leads",
}
PROGRAM_TYPES = {
    "co-sell": "Co-sell",
    "resell": "Resell",
    "oem": "OEM",
    "marketplace": "Marketplace",
    "services": "Services",
}
STATUSES = [(s.value, s.value.capitalize()) for s in Status]
