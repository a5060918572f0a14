"""The weekly pipeline review of a joint sales plan: what moved between two dates, per viewer."""
