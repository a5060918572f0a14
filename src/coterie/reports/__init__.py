"""Reports: grouped, masked aggregates over shared records (`engine.run`), all through the gate."""
