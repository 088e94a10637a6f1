"""The Rasa project (config, domain, data) and its custom actions (`bot.actions`)."""
