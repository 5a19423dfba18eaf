#!/usr/bin/env bash
# tools/check-layers.sh - fail if a file includes a header of a higher layer.
#
# Dependencies point down only (DESIGN.md §2):
#   tools -> tools/lib -> socket_api -> {tcp, udp} -> ipv4 -> arp -> eth -> core
# and tcp and udp never include each other. tools/lib (what the programs
# share: HTTP server, services, the apps' command line, kernel backend) is
# written on the public API, so it may include socket_api and itself only;
# tools/draw (tapstack-draw's library) may use the wire parsers of core,
# eth, ipv4 and tcp and itself, nothing that runs the stack;
# nothing in the library may include tools/. tools/*.c and tests/ may
# include anything. Every `#include "dir/file.h"` line of every layer is
# checked against the allowed set of its directory.
#
# The preload library (socket_api/ts_preload*) runs inside other people's
# programs and never links the stack: it may include only the control
# protocol (socket_api/ts_ctl_proto.h) and its own headers.
set -u
cd "$(dirname "$0")/.." || exit 2

allowed() {
    case "$1" in
    core)       echo "core" ;;
    eth)        echo "core eth" ;;
    arp)        echo "core eth arp" ;;
    ipv4)       echo "core eth arp ipv4" ;;
    udp)        echo "core eth arp ipv4 udp" ;;
    tcp)        echo "core eth arp ipv4 tcp" ;;
    socket_api) echo "core eth arp ipv4 udp tcp socket_api" ;;
    tools/lib)  echo "socket_api tools" ;;
    # tapstack-draw's library reads captures with the pure wire parsers
    # only: never the stack itself.
    tools/draw) echo "core eth ipv4 tcp tools" ;;
    esac
}

bad=0
checked=0
for layer in core eth arp ipv4 udp tcp socket_api tools/lib tools/draw; do
    ok=" $(allowed "$layer") "
    for f in "$layer"/*.[ch]; do
        [ -e "$f" ] || continue
        checked=$((checked + 1))
        while IFS= read -r line; do
            inc=${line#*\"}
            inc=${inc%%\"*}
            case "$f" in
            socket_api/ts_preload*)
                case "$inc" in
                socket_api/ts_ctl_proto.h|socket_api/ts_preload*.h) ;;
                *) echo "check-layers: $f includes $inc (the preload library" \
                        "may use only ts_ctl_proto.h and its own headers)"
                   bad=$((bad + 1)) ;;
                esac
                continue ;;
            esac
            dir=${inc%%/*}
            [ "$dir" = "$inc" ] && continue      # same-directory include
            case "$ok" in
            *" $dir "*) ;;
            *) echo "check-layers: $f includes $inc ($layer may not use $dir)"
               bad=$((bad + 1)) ;;
            esac
        done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f")
    done
done
if [ "$bad" -ne 0 ]; then
    echo "check-layers: $bad upward include(s) in $checked files"
    exit 1
fi
echo "check-layers: $checked files, every include points down"
