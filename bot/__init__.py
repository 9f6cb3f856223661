"""Tagih application core: settings, database, services, dialogue glue and the web app."""
