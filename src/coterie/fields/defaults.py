"""The fields a company's template starts with for a kind, before it saves one of its own.

A campaign's own fields (objective, audience, channel, start and end dates, expected leads and
expected pipeline) are custom fields of the campaign template, not columns of the shared core:
each company keeps its own values in its own space, private until it shares them (the template
page), and can rename, retire or add fields like any other. Saving the template keeps whatever
it lists; until then these are the company's campaign fields. Reports read them like every
custom field (the `mine.<key>` names), masked as usual.

`DATE_RANGES` names pairs of date fields whose end may not be before their start (422 on the
end's path, `coterie.records.values.apply`).
"""

from __future__ import annotations

from enum import StrEnum

from coterie.fields.definitions import FieldDefinition, FieldType, Option


class Channel(StrEnum):
    WEBINAR = "webinar"
    EVENT = "event"
    EMAIL = "email"
    PAID_DIGITAL = "paid_digital"
    CONTENT = "content"
    FIELD_MARKETING = "field_marketing"
    OTHER = "other"


CHANNEL_LABELS: dict[Channel, str] = {
    Channel.WEBINAR: "Webinar",
    Channel.EVENT: "Event",
    Channel.EMAIL: "E-mail",
    Channel.PAID_DIGITAL: "Paid digital",
    Channel.CONTENT: "Content",
    Channel.FIELD_MARKETING: "Field marketing",
    Channel.OTHER: "Other",
}

CAMPAIGN_START = "starts_on"
CAMPAIGN_END = "ends_on"
EXPECTED_LEADS = "expected_leads"
EXPECTED_PIPELINE = "expected_pipeline"


def _campaign_fields() -> tuple[FieldDefinition, ...]:
    return (
        FieldDefinition(key="objective", label="Objective", type=FieldType.LONG_TEXT),
        FieldDefinition(key="audience", label="Audience", type=FieldType.TEXT),
        FieldDefinition(
            key="channel",
            label="Channel",
            type=FieldType.ENUM,
            options=[Option(key=c.value, label=label) for c, label in CHANNEL_LABELS.items()],
        ),
        FieldDefinition(key=CAMPAIGN_START, label="Start date", type=FieldType.DATE),
        FieldDefinition(key=CAMPAIGN_END, label="End date", type=FieldType.DATE),
        FieldDefinition(key=EXPECTED_LEADS, label="Expected leads", type=FieldType.NUMBER),
        FieldDefinition(key=EXPECTED_PIPELINE, label="Expected pipeline", type=FieldType.MONEY),
    )


DEFAULT_FIELDS: dict[str, tuple[FieldDefinition, ...]] = {"campaign": _campaign_fields()}
DATE_RANGES: dict[str, tuple[tuple[str, str], ...]] = {
    "campaign": ((CAMPAIGN_START, CAMPAIGN_END),)
}


def default_fields(kind: str) -> list[FieldDefinition]:
    """The custom fields a template of `kind` has until the company saves its own."""
    return list(DEFAULT_FIELDS.get(kind, ()))
