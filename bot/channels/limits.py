"""What each channel can carry: the one place that knows a channel's limits."""

from __future__ import annotations

SHORT_TEXT_CHANNELS = frozenset({"sms"})
"""Channels that cut long texts into a few parts: texts that must be read whole (consent,
crisis answers) are shown in their shorter forms there."""

PUSH_CHANNELS = frozenset({"telegram", "sms", "whatsapp"})
"""Channels the service sends to by its own request: every reply is put in the outbox in the
step's transaction and acknowledged there once the channel took it, so a crash between an
answer and its sending loses nothing. Elsewhere (the web chat, the terminal) the response is
the delivery."""
