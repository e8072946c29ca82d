"""The shared kernel both `scheduler/` and `bot/` stand on (issue 21, item 4).

Settings (`core.config`, `core.paths`), the neutral message model (`core.model`), catalogs and
local formats (`core.i18n`), station scoping (`core.stations`) and the wall clock
(`core.clock`). It imports only `content/`, `storage/` and libraries, never `scheduler/` or
`bot/` (tests/test_layers.py). The old names `bot.config`, `bot.model`, `bot.i18n`, `bot.paths`
and `bot.stations` are the same modules (see `bot/__init__.py`).
"""
