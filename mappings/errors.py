"""The mapping stage's error: a bad mapping file or a bad input, said plainly.

It lives here, not in ``kg/errors.py``, because ``mappings/`` sits below ``kg/`` (arrows point down
the path of data) and cannot import it; ``kg.errors.USER_ERRORS`` names both roots for handlers.
"""


class MappingError(Exception):
    """A mapping or input that cannot be used; the message says what and what to do."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
