"""Custom Rasa 3.6 graph components (run in .venv-rasa, loaded by bot/config.yml)."""
