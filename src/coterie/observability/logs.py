"""Logging for every Coterie process: one handler on stderr, text or JSON, with the request id.

`configure_logging(settings)` sets up the root logger; `logging_config(settings)` is the same
configuration as a `logging.config.dictConfig` dictionary, which `coterie serve` hands to uvicorn
so that each of its worker processes applies it too. uvicorn's own loggers propagate to the root;
its access log is replaced by the app's (`coterie.access`, see `coterie.observability.middleware`),
which knows the route, the duration and the request id, and never writes query strings (they can
carry invitation and password-reset tokens).
"""

from __future__ import annotations

import logging
import logging.config
from typing import Any

from coterie.config import Settings
from coterie.kit import request_ids

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# JSON: these fields first (renamed below), then `timestamp`, then any `extra` of the call
JSON_FORMAT = "%(levelname)s %(name)s %(message)s"
JSON_RENAMED = {"levelname": "level", "name": "logger"}


class RequestIdFilter(logging.Filter):
    """Adds `request_id` (the request or job in progress; absent when there is none) to each
    record a handler writes."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            request_id = request_ids.current()
            if request_id is not None:
                record.request_id = request_id
        return True


def _formatter(settings: Settings) -> dict[str, Any]:
    if settings.resolved_log_format == "json":
        return {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FORMAT,
            "rename_fields": JSON_RENAMED,
            "timestamp": True,  # ISO 8601, UTC
        }
    return {"()": "logging.Formatter", "fmt": TEXT_FORMAT, "defaults": {"request_id": "-"}}


def logging_config(settings: Settings) -> dict[str, Any]:
    """The `dictConfig` of `configure_logging`: every logger through one stderr handler."""
    level = settings.log_level
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {"coterie": _formatter(settings)},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "coterie",
                "filters": ["request_id"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            # uvicorn's loggers write through the root's handler, not their own
            name: {"level": level, "handlers": [], "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "coterie")
        },
    }


def configure_logging(settings: Settings) -> None:
    """Log as `settings` say (COTERIE_LOG_FORMAT, COTERIE_LOG_LEVEL), in this process."""
    logging.config.dictConfig(logging_config(settings))
