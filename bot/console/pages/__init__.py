"""Console pages: one module per page (or group of pages); every module here is imported when the
console starts, and its `@page(...)` decorators register its routes. See bot/console/__init__.py.
"""
