"""CRM connectors: the contract (`base`), the registry (`registry`), one module per CRM."""
