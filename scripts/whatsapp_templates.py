"""Print the WhatsApp "a reply from the familielos is waiting" templates to register with Meta:
one per template name and language code in config.yml's ``whatsapp.reply_waiting_templates``,
the text from the catalogs (``whatsapp.template.reply_waiting``), as the JSON bodies of
``POST https://graph.facebook.com/<version>/<WABA id>/message_templates``.

  .venv/bin/python scripts/whatsapp_templates.py [--config my-config.yml]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from bot.channels.whatsapp import template_definitions  # noqa: E402
from bot.i18n import Catalogs  # noqa: E402
from bot.settings import load_settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=None)
    args = parser.parse_args()
    settings = load_settings(args.config)
    languages = settings.languages.supported
    definitions = template_definitions(Catalogs.load(languages), settings.whatsapp, languages)
    print(json.dumps(definitions, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
