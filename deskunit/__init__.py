"""deskunit: the desk unit daemon and its command line."""
from firmware.threads import pin_math_threads

pin_math_threads()  # before anything imports numpy: the daemon and `linecheck` start here
