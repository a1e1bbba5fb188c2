#!/usr/bin/env bash
# Install deskunit on Raspberry Pi OS Bookworm (Python 3.11; Pi 4, Pi 5, Zero 2 W), as root:
#
#   scripts/install-pi.sh                 # from a checkout of the repository
#   scripts/install-pi.sh --dry-run       # print what would be done, change nothing
#   scripts/install-pi.sh --rollback      # go back to the previous installed version
#
# Idempotent: run it again after `git pull` to upgrade; the site configuration in
# /etc/deskunit/deskunit.toml is never overwritten. Steps: apt packages, I2C and the UART (and the
# serial console taken off it), the deskunit user and its groups, a new venv per version under
# PREFIX/releases with the pinned, hash-checked dependencies of requirements/pi.lock and the package,
# PREFIX/current pointing at it (PREFIX/previous at the one before), the systemd unit written for
# PREFIX, `systemctl enable` and restart.
# Options: --dry-run, --no-start (install and enable, do not start), --src DIR, --prefix DIR
# (default /opt/deskunit), --rollback, --print-unit (print the systemd unit for --prefix and exit),
# --unit-id ID (the unit's name at the central server; asked for, or derived from the board's serial).
set -euo pipefail

DRY_RUN=0
START=1
ROLLBACK=0
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX=/opt/deskunit
SERVICE_USER=deskunit
GROUPS_NEEDED=(gpio i2c audio dialout)
APT_PACKAGES=(python3-venv python3-dev python3-pip libportaudio2 libffi-dev i2c-tools)
# gpiozero's default pin factory on Bookworm (and the only one on a Pi 5).
OPTIONAL_APT=(python3-lgpio)
SYSTEMCTL="${SYSTEMCTL:-systemctl}"  # tests of --rollback run without systemd
PRINT_UNIT=0
REBOOT_NEEDED=0

UNIT_ID=""

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) DRY_RUN=1 ;;
        --no-start) START=0 ;;
        --src) SRC="$2"; shift ;;
        --prefix) PREFIX="$2"; shift ;;
        --unit-id) UNIT_ID="$2"; shift ;;
        --rollback) ROLLBACK=1 ;;
        --print-unit) PRINT_UNIT=1 ;;
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

# The systemd unit for PREFIX: the template with its ExecStart and documentation paths filled in.
render_unit() { sed -e "s|@PREFIX@|$PREFIX|g" "$SRC/systemd/deskunit.service"; }
case "$PREFIX" in
    *[[:space:]\|]*) echo "install-pi.sh: --prefix must not contain spaces or '|' (got '$PREFIX')" >&2; exit 2 ;;
    /*) ;;
    *) echo "install-pi.sh: --prefix must be an absolute path (got $PREFIX)" >&2; exit 2 ;;
esac
PREFIX="${PREFIX%/}"
if [ "$PRINT_UNIT" -eq 1 ]; then render_unit; exit 0; fi

if [ "$DRY_RUN" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
    echo "install-pi.sh: run as root (sudo $0), or with --dry-run to see the steps" >&2
    exit 1
fi
[ "$DRY_RUN" -eq 1 ] && say "dry run: nothing will be changed"

install_unit() {
    say "systemd unit for $PREFIX (ExecStart=$PREFIX/current/bin/deskunit run)"
    if [ "$DRY_RUN" -eq 0 ]; then
        render_unit > /etc/systemd/system/deskunit.service.new
        chmod 0644 /etc/systemd/system/deskunit.service.new
        mv -f /etc/systemd/system/deskunit.service.new /etc/systemd/system/deskunit.service
    else
        echo "    (would write /etc/systemd/system/deskunit.service: scripts/install-pi.sh --print-unit shows it)"
    fi
    run "$SYSTEMCTL" daemon-reload
}

# Point a symlink at a target atomically (rename over the old link).
relink() {
    run ln -sfn "$2" "$1.new"
    run mv -T "$1.new" "$1"
}

# ---------------------------------------------------------------- rollback
if [ "$ROLLBACK" -eq 1 ]; then
    [ -L "$PREFIX/previous" ] || { echo "install-pi.sh: no previous version in $PREFIX to go back to" >&2; exit 1; }
    cur="$(readlink "$PREFIX/current")"
    prev="$(readlink "$PREFIX/previous")"
    say "rollback: $(basename "$cur") -> $(basename "$prev")"
    relink "$PREFIX/current" "$prev"
    relink "$PREFIX/previous" "$cur"
    run "$SYSTEMCTL" restart deskunit.service
    say "done: $("$PREFIX/current/bin/deskunit" --version 2>/dev/null || basename "$prev") runs. Undo with --rollback again."
    exit 0
fi

[ -f "$SRC/pyproject.toml" ] || { echo "install-pi.sh: no pyproject.toml in $SRC (use --src)" >&2; exit 1; }
[ -f "$SRC/requirements/pi.lock" ] || { echo "install-pi.sh: no requirements/pi.lock in $SRC" >&2; exit 1; }
# Before anything is changed: the unit needs Python 3.11 (tomllib), as on Bookworm.
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "install-pi.sh: deskunit needs Python 3.11 or newer (Raspberry Pi OS Bookworm); this is $(python3 -V 2>&1)" >&2
    exit 1
fi

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
    if [ "$("$SYSTEMCTL" is-enabled "serial-getty@$tty.service" 2>/dev/null || true)" != "masked" ]; then
        run "$SYSTEMCTL" disable --now "serial-getty@$tty.service" || true
        run "$SYSTEMCTL" mask "serial-getty@$tty.service"
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
# A new venv per installed version, so that --rollback can return to the previous one whole.
# --system-site-packages: gpiozero's lgpio pin factory comes from apt (python3-lgpio), not PyPI.
# The dependencies are the pinned, hash-checked set of requirements/pi.lock, from PyPI only.
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
NEW="$PREFIX/releases/$STAMP"
say "venv $NEW: requirements/pi.lock (hash-checked), then the deskunit package from $SRC"
run install -d -m 0755 "$PREFIX" "$PREFIX/releases"
run python3 -m venv --system-site-packages "$NEW"
run env PIP_CONFIG_FILE=/dev/null "$NEW/bin/pip" install --quiet --disable-pip-version-check \
    --index-url https://pypi.org/simple --require-hashes -r "$SRC/requirements/pi.lock"
run env PIP_CONFIG_FILE=/dev/null "$NEW/bin/pip" install --quiet --disable-pip-version-check \
    --index-url https://pypi.org/simple --no-deps "$SRC"
if [ "$DRY_RUN" -eq 0 ]; then
    echo "    $("$NEW/bin/deskunit" --version)"
fi
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
    "$NEW/bin/deskunit" config check /etc/deskunit/deskunit.toml
    if grep -Eq '^id *= *"unit-0001"' /etc/deskunit/deskunit.toml; then
        say "WARNING: /etc/deskunit/deskunit.toml still says id = \"unit-0001\": give this unit its own id"
    fi
fi
say "enrol it at the central server: deskunit-central add-unit $UNIT_ID (prints its token once: put it in [server] token)"

# ---------------------------------------------------------------- switch versions
say "current -> $NEW"
if [ -L "$PREFIX/current" ]; then
    relink "$PREFIX/previous" "$(readlink "$PREFIX/current")"
elif [ -d "$PREFIX/venv" ]; then
    relink "$PREFIX/previous" "$PREFIX/venv"   # an install from before versioned venvs
fi
relink "$PREFIX/current" "$NEW"
for old in "$PREFIX"/releases/*; do  # keep the current and the previous version only
    [ -d "$old" ] || continue
    case "$old" in "$(readlink "$PREFIX/current" 2>/dev/null)"|"$(readlink "$PREFIX/previous" 2>/dev/null)"|"$NEW") continue ;; esac
    run rm -rf "$old"
done

# ---------------------------------------------------------------- the service
install_unit
if have systemd-analyze; then
    run systemd-analyze verify /etc/systemd/system/deskunit.service || true
fi
if [ "$START" -eq 1 ] && [ "$REBOOT_NEEDED" -eq 0 ]; then
    run "$SYSTEMCTL" enable deskunit.service
    run "$SYSTEMCTL" restart deskunit.service   # starts it, or picks up an upgraded package
else
    run "$SYSTEMCTL" enable deskunit.service
fi

if [ "$REBOOT_NEEDED" -eq 1 ]; then
    say "I2C/UART settings changed: reboot now (sudo reboot); deskunit starts after the reboot"
fi
say "done. Status: systemctl status deskunit   Logs: journalctl -u deskunit -f"
