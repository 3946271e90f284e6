#!/usr/bin/env bash
# Optional: installs the contrib/non-free TTS voices that `make_corpus.sh --voices all` uses
# (festvox-rablpc16k, mbrola us1/us2/us3/en1, pico, RHVoice), from Debian's contrib and
# non-free components through a private apt source list, without editing /etc/apt.
# Licences: mbrola voices are non-commercial / non-military; pico's lingware is non-free.
set -euo pipefail
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
suite="$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")"
state="$(mktemp -d)"
trap 'rm -rf "$state"' EXIT
mkdir -p "$state/lists/partial"
cat > "$state/all.list" <<LIST
deb $mirror $suite main contrib non-free
deb $mirror $suite-updates main contrib non-free
deb $security $suite-security main contrib non-free
LIST
apt_opts=(-o "Dir::Etc::SourceList=$state/all.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$state/lists")
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get "${apt_opts[@]}" update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends \
  festvox-rablpc16k mbrola mbrola-us1 mbrola-us2 mbrola-us3 mbrola-en1 libttspico-utils rhvoice rhvoice-english
