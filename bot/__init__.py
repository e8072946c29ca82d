"""healthbot package.

The shared kernel moved to `core/` (issue 21: dependencies point down). `bot.config`,
`bot.model`, `bot.i18n`, `bot.paths` and `bot.stations` stay importable as the very same module
objects, so `from bot.config import Settings` and `monkeypatch.setattr("bot.config.X", ...)` keep
working; new code imports from `core`.
"""

import sys

from core import config, i18n, model, paths, stations

for _module in (config, i18n, model, paths, stations):
    sys.modules[f"{__name__}.{_module.__name__.rpartition('.')[2]}"] = _module
del _module
