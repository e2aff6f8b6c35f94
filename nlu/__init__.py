"""Understanding: language detection, crisis check, Rasa client and offline fallback."""
