"""The field vocabulary the gate reads: record kinds and participant states (`kinds`), field
definitions and value checks (`definitions`), companies' templates as read, with their parsed
cache (`templates`), and what a company shows of its own spaces (`policy`).

It sits below `authz`: it imports only `models`, `kit` and `db`. Writing a template is a
use case of `coterie.records.templates`."""
