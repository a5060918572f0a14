"""The installed connectors, by kind, found through the `coterie.connectors` entry points.

A third party ships a package whose `pyproject.toml` declares

    [project.entry-points."coterie.connectors"]
    mycrm = "mycrm_coterie:MyCrmConnector"

and Coterie offers "MyCRM" on Settings > Integrations once the package is installed.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points

from coterie.sync.connectors.base import Connector

GROUP = "coterie.connectors"
log = logging.getLogger(__name__)


class UnknownConnector(LookupError):  # noqa: N818
    pass


def _load(point: EntryPoint) -> type[Connector]:
    cls = point.load()
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise TypeError(f"entry point {point.name} = {point.value} is not a Connector")
    return cls


@lru_cache(maxsize=1)
def installed() -> dict[str, type[Connector]]:
    """Every installed connector class by its kind (entry point name), sorted by label. A
    connector that fails to load is left out (and logged), never breaking the others."""
    found: dict[str, type[Connector]] = {}
    for point in entry_points(group=GROUP):
        try:
            found[point.name] = _load(point)
        except Exception:
            log.exception("the CRM connector %s (%s) failed to load", point.name, point.value)
    return dict(sorted(found.items(), key=lambda item: item[1].label))


def connector_class(kind: str) -> type[Connector]:
    """The installed connector of `kind` (UnknownConnector when none is, or it failed to load)."""
    found = installed().get(kind)
    if found is None:
        raise UnknownConnector(kind)
    return found
