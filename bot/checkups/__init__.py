"""Free yearly check-ups (issue 20): messages and outbox rows shared by the chat and the CLI."""
