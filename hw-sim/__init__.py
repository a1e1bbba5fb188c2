"""The hardware simulator: real drivers (RPLCD, gpiozero, pyserial) run against emulated devices."""
