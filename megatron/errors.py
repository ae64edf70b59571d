"""Errors that reach users as sentences, not tracebacks."""


class MegatronError(Exception):
    """An error whose message is a complete sentence meant for the user."""
