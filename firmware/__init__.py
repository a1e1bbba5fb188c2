"""The unit's logic: pure Python, no hardware library is ever imported here."""
