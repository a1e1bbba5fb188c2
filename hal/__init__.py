"""Hardware abstraction: small interfaces and thin adapters over the real drivers, imported lazily."""
