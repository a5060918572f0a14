"""The partner pipeline in co-selling: lead nomination and decisions, duplicate warnings,
conversion to an opportunity, and deal registration."""
