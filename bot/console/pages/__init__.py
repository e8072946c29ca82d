"""Console pages: one module per page (or group of pages), listed in `bot.console.app.PAGE_MODULES`.

See bot/console/__init__.py for how to add one.
"""
