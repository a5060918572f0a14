"""THE gate: principals, rule conditions, the grant materializer, visible(), check(), masking."""
