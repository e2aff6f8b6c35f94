"""The application's read-only files. Most live in their packages (templates, static files,
fonts, migrations, the NLU data and lexicons); the catalogs (``locales/``) and the example
configuration (``config.yml``) are at the top of a checkout, and a wheel carries copies of
them in ``bot/_bundled/`` (``setup.py`` puts them there at build time)."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
"""The checkout's root (installed from a wheel: the site-packages folder, without tests/)."""
BUNDLED_DIR = PACKAGE_DIR / "_bundled"


def bundled(name: str) -> Path:
    """A top-level file or folder of the checkout (``locales``, ``config.yml``): the wheel's
    copy when installed from one, else the checkout's own."""
    copy = BUNDLED_DIR / name
    return copy if copy.exists() else PROJECT_ROOT / name


LOCALES_DIR = bundled("locales")
EXAMPLE_CONFIG = bundled("config.yml")
"""The example configuration (Fjordvik kommune): used when INNGANG_CONFIG is unset and
there is no ./config.yml."""
