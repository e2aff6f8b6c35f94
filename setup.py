"""Build hook (the rest of the metadata is in pyproject.toml): the wheel carries the
checkout's top-level catalogs (``locales/``) and example configuration (``config.yml``)
inside the bot package, in ``bot/_bundled/``, where ``bot.resources`` finds them."""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLED = [
    "config.yml",
    *sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("locales/*/LC_MESSAGES/*.po")),
]


class BuildPy(build_py):
    """build_py, then the top-level files the application reads at run time."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # an editable install reads them from the checkout itself
        target = Path(self.build_lib) / "bot" / "_bundled"
        for name in BUNDLED:
            destination = target / name
            self.mkpath(str(destination.parent))
            self.copy_file(str(ROOT / name), str(destination))


setup(cmdclass={"build_py": BuildPy})
