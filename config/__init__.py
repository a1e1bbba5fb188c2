"""Default configuration and phrase banks shipped with the unit (TOML data)."""
