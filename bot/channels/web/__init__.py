"""Web chat channel."""
