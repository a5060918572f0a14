"""Small generic helpers shared by every domain: errors, pagination, request limits."""
