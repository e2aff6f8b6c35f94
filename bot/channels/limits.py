"""What each channel can carry: the one place that knows a channel's limits."""

from __future__ import annotations

SHORT_TEXT_CHANNELS = frozenset({"sms"})
"""Channels that cut long texts into a few parts: texts that must be read whole (consent,
crisis answers) are shown in their shorter forms there."""
