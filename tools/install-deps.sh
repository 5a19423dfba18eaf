#!/usr/bin/env bash
# tools/install-deps.sh - install the Debian packages tapstack needs, if any
# are missing: the build (compilers, libpcap, CUnit), the tests and the demo
# (iproute2, ping, arping, tshark, tcpdump, curl, nc, iperf3, setpriv from
# util-linux, CPython's test suite), tapstack-ctl's JSON (jansson), what the
# install test uses (pkg-config, groff, man), tapstack-draw's tests
# (xmllint from libxml2-utils checks its SVG, headless chromium renders its
# HTML page), and
# the fuzz targets' (make fuzz: libFuzzer is in libclang-rt-14-dev;
# make fuzz-cov: llvm-cov and llvm-profdata from llvm-14), and make bench's
# (lwIP 2.1 for its lwIP rows, xmllint to check its SVG).
# Runs apt-get only when a package is missing, so it is quick on a machine
# that has them all.
set -u
pkgs="make gcc clang libjansson-dev libpython3.11-testsuite libclang-rt-14-dev
      llvm-14 libpcap-dev libcunit1-dev iproute2
      iputils-ping iputils-arping tshark tcpdump netcat-openbsd procps python3
      curl wrk iperf3 util-linux pkg-config groff-base man-db liblwip-dev
      libxml2-utils chromium"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages:$missing; run as root or: sudo apt-get install$missing" >&2
    exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no, non-interactively.
# iperf3 asks whether to run a server at boot; the tests start their own.
printf '%s\n' "wireshark-common wireshark-common/install-setuid boolean false" \
    "iperf3 iperf3/start_daemon boolean false" |
    debconf-set-selections 2>/dev/null || true
apt-get update -qq && apt-get install -y -qq $missing >/dev/null ||
    { echo "install-deps: apt-get failed" >&2; exit 1; }
