"""Babel catalogs (`<lang>/LC_MESSAGES/<domain>.po`) and the tool that keeps them in step."""
