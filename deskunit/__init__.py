"""deskunit: the desk unit daemon and its command line."""
