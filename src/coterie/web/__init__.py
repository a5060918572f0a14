"""The server-rendered web application: Jinja2 templates, htmx, static assets, page routes."""
