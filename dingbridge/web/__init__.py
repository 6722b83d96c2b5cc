"""The web layer: admin console routes, templates, static files, message catalogs."""
