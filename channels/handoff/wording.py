"""What the assistant says around a handoff when Rasa is deliberately not in the loop.

While a person has the conversation, and for the hand-back and the rating that follow, the
API answers without Rasa (customer messages must not reach the bot then), so these lines live
here. Everything the bot says through Rasa ("a person is coming", "the team is away") stays in
`bot/domain.yml`.
"""

from __future__ import annotations

AGENT_JOINED = "{name} from the support team has joined the chat."
HANDBACK = "{name} has closed this chat; you're back with the assistant."
CSAT_QUESTION = "How satisfied are you with the help you got? (1 = not at all, 5 = very)"
CSAT_THANKS = "Thank you for your rating!"
CSAT_BUTTONS = [{"title": str(n), "payload": str(n)} for n in range(1, 6)]
