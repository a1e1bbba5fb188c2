"""The reference central server that deskunit units sync their call records with.

`CentralServer` runs it in-process (tests, the simulator); ``python -m central serve`` runs it as a
service. Storage is SQLite by default and PostgreSQL given a ``postgresql://`` URL.
"""

from central.faults import Faults
from central.server import CentralServer

__all__ = ["CentralServer", "Faults"]
