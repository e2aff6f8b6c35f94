"""Conversation logic: pure step functions over typed state. No I/O in this package."""
