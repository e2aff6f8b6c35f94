"""Channels: turn platform events into Inbound messages and send Outbound ones back."""
