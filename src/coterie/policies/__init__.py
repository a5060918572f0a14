"""A company's access policies: teams, visibility rules and auto-share rules (CRUD and checks)."""
