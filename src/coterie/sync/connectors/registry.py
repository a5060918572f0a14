"""The installed connectors, by kind, found through the `coterie.connectors` entry points.

A third party ships a package whose `pyproject.toml` declares

    [project.entry-points."coterie.connectors"]
    mycrm = "mycrm_coterie:MyCrmConnector"

and Coterie offers "MyCRM" on Settings > Integrations once the package is installed.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import entry_points

from coterie.sync.connectors.base import Connector

GROUP = "coterie.connectors"


class UnknownConnector(LookupError):  # noqa: N818
    pass


@lru_cache(maxsize=1)
def installed() -> dict[str, type[Connector]]:
    """Every installed connector class by its kind (entry point name), sorted by label."""
    found: dict[str, type[Connector]] = {}
    for point in entry_points(group=GROUP):
        cls = point.load()
        if not (isinstance(cls, type) and issubclass(cls, Connector)):
            raise TypeError(f"entry point {point.name} = {point.value} is not a Connector")
        found[point.name] = cls
    return dict(sorted(found.items(), key=lambda item: item[1].label))


def connector_class(kind: str) -> type[Connector]:
    try:
        return installed()[kind]
    except KeyError:
        raise UnknownConnector(kind) from None
