#!/usr/bin/env bash
# Install deskunit on Raspberry Pi OS (Bookworm or Bullseye; Pi 4, Pi 5, Zero 2 W) in one command:
#
#   sudo scripts/install-pi.sh            # from a checkout of the repository
#   scripts/install-pi.sh --dry-run       # print what would be done, change nothing
#
# Idempotent: run it again after `git pull` to upgrade; nothing already done is redone, the site
# configuration in /etc/deskunit/deskunit.toml is never overwritten. Steps: apt packages, I2C and the
# UART (and the serial console taken off it), the deskunit user and its groups, a venv in
# /opt/deskunit, the package, the systemd unit, `systemctl enable --now`.
# Options: --dry-run, --no-start (install and enable, do not start), --src DIR, --prefix DIR,
# --unit-id ID (the unit's name at the central server; asked for, or derived from the board's serial).
set -euo pipefail

DRY_RUN=0
START=1
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX=/opt/deskunit
SERVICE_USER=deskunit
GROUPS_NEEDED=(gpio i2c audio dialout)
APT_PACKAGES=(python3-venv python3-dev python3-pip libportaudio2 libffi-dev i2c-tools)
# gpiozero's default pin factory on Bookworm (and the only one on a Pi 5); not packaged on Bullseye,
# where gpiozero falls back to RPi.GPIO (python3-rpi.gpio).
OPTIONAL_APT=(python3-lgpio python3-rpi.gpio)
REBOOT_NEEDED=0

UNIT_ID=""

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) DRY_RUN=1 ;;
        --no-start) START=0 ;;
        --src) SRC="$2"; shift ;;
        --prefix) PREFIX="$2"; shift ;;
        --unit-id) UNIT_ID="$2"; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install-pi.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

say() { printf '==> %s\n' "$*"; }
run() {
    printf '    $ %s\n' "$*"
    if [ "$DRY_RUN" -eq 0 ]; then "$@"; fi
}
have() { command -v "$1" >/dev/null 2>&1; }

if [ "$DRY_RUN" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
    echo "install-pi.sh: run as root (sudo $0), or with --dry-run to see the steps" >&2
    exit 1
fi
[ -f "$SRC/pyproject.toml" ] || { echo "install-pi.sh: no pyproject.toml in $SRC (use --src)" >&2; exit 1; }
[ "$DRY_RUN" -eq 1 ] && say "dry run: nothing will be changed"

# ---------------------------------------------------------------- packages
say "apt packages: ${APT_PACKAGES[*]}"
missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    run apt-get update
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
else
    echo "    all installed"
fi
for p in "${OPTIONAL_APT[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" && continue
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$p" \
        || echo "    $p not available here (gpiozero will use another pin factory)"
done

# ---------------------------------------------------------------- I2C and the UART
if have raspi-config; then
    say "I2C on (the LCD's PCF8574 backpack at 0x27 on /dev/i2c-1)"
    if [ "$(raspi-config nonint get_i2c 2>/dev/null || echo 1)" != "0" ]; then
        run raspi-config nonint do_i2c 0
        REBOOT_NEEDED=1
    else
        echo "    already on"
    fi
    say "UART on for the technician console, the Linux serial console off it"
    if grep -q 'do_serial_cons' "$(command -v raspi-config)"; then
        [ "$(raspi-config nonint get_serial_hw 2>/dev/null || echo 1)" = "0" ] || { run raspi-config nonint do_serial_hw 0; REBOOT_NEEDED=1; }
        [ "$(raspi-config nonint get_serial_cons 2>/dev/null || echo 0)" = "1" ] || { run raspi-config nonint do_serial_cons 1; REBOOT_NEEDED=1; }
    else
        # older raspi-config: 2 = hardware on, login shell off
        run raspi-config nonint do_serial 2
        REBOOT_NEEDED=1
    fi
else
    say "raspi-config not found: enable I2C (dtparam=i2c_arm=on) and the UART (enable_uart=1) in config.txt yourself"
fi
for cmdline in /boot/firmware/cmdline.txt /boot/cmdline.txt; do
    if [ -f "$cmdline" ] && grep -Eq 'console=(serial0|ttyAMA0|ttyS0),[0-9]+' "$cmdline"; then
        say "removing the serial console from $cmdline"
        run sed -i -E 's/ ?console=(serial0|ttyAMA0|ttyS0),[0-9]+//g' "$cmdline"
        REBOOT_NEEDED=1
    fi
done
say "no login prompt on the console UART (it belongs to deskunit)"
for tty in serial0 ttyS0 ttyAMA0; do
    if [ "$(systemctl is-enabled "serial-getty@$tty.service" 2>/dev/null || true)" != "masked" ]; then
        run systemctl disable --now "serial-getty@$tty.service" || true
        run systemctl mask "serial-getty@$tty.service"
    fi
done

# ---------------------------------------------------------------- user and groups
say "user $SERVICE_USER in groups ${GROUPS_NEEDED[*]}"
for g in "${GROUPS_NEEDED[@]}"; do
    getent group "$g" >/dev/null || run groupadd --system "$g"
done
if ! id "$SERVICE_USER" >/dev/null 2>&1; then
    run useradd --system --user-group --home-dir /var/lib/deskunit --no-create-home \
        --shell /usr/sbin/nologin --comment "deskunit desk unit" "$SERVICE_USER"
fi
for g in "${GROUPS_NEEDED[@]}"; do
    id -nG "$SERVICE_USER" 2>/dev/null | tr ' ' '\n' | grep -qx "$g" || run usermod -aG "$g" "$SERVICE_USER"
done

# ---------------------------------------------------------------- venv and package
# --system-site-packages: gpiozero's lgpio pin factory comes from apt (python3-lgpio), not PyPI.
say "venv in $PREFIX/venv and the deskunit package from $SRC"
run install -d -m 0755 "$PREFIX"
if [ ! -x "$PREFIX/venv/bin/python" ]; then
    run python3 -m venv --system-site-packages "$PREFIX/venv"
fi
run "$PREFIX/venv/bin/pip" install --quiet --disable-pip-version-check --upgrade "$SRC"
run install -m 0644 "$SRC/docs/raspberry-pi.md" "$PREFIX/raspberry-pi.md"

# ---------------------------------------------------------------- configuration
# Every unit needs its own id at the central server (it enrols it with `deskunit-central add-unit ID`):
# given with --unit-id, else asked for, else derived from the board's serial number (or machine-id).
derived_unit_id() {
    local serial
    serial=$(awk -F': *' '/^Serial/ {print $2}' /proc/cpuinfo 2>/dev/null | tail -1)
    [ -n "$serial" ] || serial=$(cat /etc/machine-id 2>/dev/null || true)
    serial=$(printf '%s' "$serial" | tr -cd '0-9a-fA-F' | tr 'A-F' 'a-f')
    [ -n "$serial" ] || serial=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
    printf 'unit-%s' "${serial: -8}"
}
valid_unit_id() { [[ "$1" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ ]] && [ "$1" != "unit-0001" ]; }
if [ -z "$UNIT_ID" ]; then
    UNIT_ID=$(derived_unit_id)
    if [ -t 0 ] && [ ! -f /etc/deskunit/deskunit.toml ]; then
        read -r -p "Unit id at the central server [$UNIT_ID]: " answer || answer=""
        [ -z "$answer" ] || UNIT_ID="$answer"
    fi
fi
if ! valid_unit_id "$UNIT_ID"; then
    echo "install-pi.sh: unit id '$UNIT_ID' is not usable (letters, digits, . _ -, up to 64; not unit-0001)" >&2
    exit 2
fi
say "configuration in /etc/deskunit (kept if present); unit id $UNIT_ID"
run install -d -m 0750 -o root -g "$SERVICE_USER" /etc/deskunit
if [ ! -f /etc/deskunit/deskunit.toml ]; then
    if [ "$DRY_RUN" -eq 0 ]; then
        cat > /etc/deskunit/deskunit.toml <<'EOF'
# deskunit site configuration: only what differs from the defaults
# (see config/default.toml in the source). Check it with: deskunit config check
[unit]
id = "__UNIT_ID__"
EOF
        sed -i "s/__UNIT_ID__/$UNIT_ID/" /etc/deskunit/deskunit.toml
        chown root:"$SERVICE_USER" /etc/deskunit/deskunit.toml
        chmod 0640 /etc/deskunit/deskunit.toml
    else
        echo "    (would write a starter /etc/deskunit/deskunit.toml)"
    fi
fi
if [ "$DRY_RUN" -eq 0 ]; then
    "$PREFIX/venv/bin/deskunit" config check /etc/deskunit/deskunit.toml
    if grep -Eq '^id *= *"unit-0001"' /etc/deskunit/deskunit.toml; then
        say "WARNING: /etc/deskunit/deskunit.toml still says id = \"unit-0001\": give this unit its own id"
    fi
fi
say "enrol it at the central server: deskunit-central add-unit $UNIT_ID (prints its token once: put it in [server] token)"

# ---------------------------------------------------------------- the service
say "systemd unit"
run install -m 0644 "$SRC/systemd/deskunit.service" /etc/systemd/system/deskunit.service
run systemctl daemon-reload
if have systemd-analyze; then
    run systemd-analyze verify /etc/systemd/system/deskunit.service || true
fi
if [ "$START" -eq 1 ] && [ "$REBOOT_NEEDED" -eq 0 ]; then
    run systemctl enable deskunit.service
    run systemctl restart deskunit.service   # starts it, or picks up an upgraded package
else
    run systemctl enable deskunit.service
fi

if [ "$REBOOT_NEEDED" -eq 1 ]; then
    say "I2C/UART settings changed: reboot now (sudo reboot); deskunit starts after the reboot"
fi
say "done. Status: systemctl status deskunit   Logs: journalctl -u deskunit -f"
