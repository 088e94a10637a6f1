"""One router per file; `channels.api.main` includes them all."""
