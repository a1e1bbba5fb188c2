"""The hardware simulator: real drivers (RPLCD, gpiozero, pyserial) run against emulated devices."""

#: Where ``deskunit run --sim`` serves its browser panel: not 8080, the central server's default.
PANEL_PORT = 8765
