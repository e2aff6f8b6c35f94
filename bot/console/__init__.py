"""The staff console: the los queue in a browser (the same operations as `inngang queue`).

``app`` has the pages and actions, ``guard`` the sessions, CSRF tokens and cross-site
checks, ``present`` the words and times the pages show; the pages themselves are templates
in ``bot/templates/console/``.
"""

from bot.console.app import Console

__all__ = ["Console"]
