"""CLI sub-commands: every module here defines `register(subparsers)`; `bot.cli` finds them all."""
