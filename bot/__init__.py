"""Inngang: the application (settings, channels, router, store, queue, CLI)."""
