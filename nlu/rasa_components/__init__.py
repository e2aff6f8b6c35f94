"""Custom Rasa graph components. Imported by Rasa (Python 3.10, in .venv-rasa) through the
module path in nlu/rasa/config.yml; nlu/rasa_runtime.py puts the project root on the child's
PYTHONPATH. Nothing in the application imports this package."""
