#!/usr/bin/env bash
# tests/install/run.sh - make install into a temporary DESTDIR, build a
# library user's program against that tree only, make uninstall.
#
#   BUILD=build MAKE=make tests/install/run.sh     (make check-install)
#
# Checks: the files land where the README says; libtapstack.a holds no
# tools/lib code; every function the installed headers declare is TS_API
# and libtapstack.so exports exactly those, under its soname; each header compiles alone as
# <tapstack/NAME.h> (C, and C++ when there is a compiler); tapstack.pc
# gives the flags through PKG_CONFIG_SYSROOT_DIR; tests/install/app.c
# builds with them, shared (runs with LD_LIBRARY_PATH: --help, bad
# arguments, an error from inside the library) and static (pkg-config
# --static, libtapstack.a); the man pages render with no groff warning and
# tapstack.8 names every option of tapstack --help; make uninstall leaves
# no file. Needs no root and no TAP. Prints "N passed, N failed".
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE/../.." || exit 2
: "${BUILD:=build}" "${MAKE:=make}"
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh       # check, check_skip, ts_section, ts_summary

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ts-install.$$.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
STAGE=$TMP/stage                # DESTDIR: nothing else goes in there
PREFIX=/usr/local
ROOT=$STAGE$PREFIX
OUT=$TMP/out                    # the last command's output

mk() {
    "$MAKE" --no-print-directory -s BUILD="$BUILD" DESTDIR="$STAGE" \
        PREFIX="$PREFIX" "$@" >"$OUT" 2>&1 || { sed 's/^/#   /' "$OUT"; return 1; }
}
# Run "$@", stdout and stderr into $OUT; true when its status is $1.
status_is() {
    local want=$1
    shift
    "$@" >"$OUT" 2>&1
    local rc=$?
    [ "$rc" -eq "$want" ] || { echo "#   status $rc, want $want:"; sed 's/^/#   /' "$OUT"; }
    [ "$rc" -eq "$want" ]
}
# status_is $1, and the output has $2.
runs() {
    local want=$1 pattern=$2
    shift 2
    status_is "$want" "$@" && said "$pattern"
}
said() { grep -q -- "$1" "$OUT" || { echo "#   no '$1' in:"; sed 's/^/#   /' "$OUT"; false; }; }
same() { [ "$1" = "$2" ] || { echo "#   got:  $1"; echo "#   want: $2"; false; }; }
# shellcheck disable=SC2048,SC2086 # the words, one space between them
words() { echo $*; }

test_layout() {
    ts_section "make install DESTDIR=\$tmp PREFIX=$PREFIX"
    check "make install" mk install
    [ -e "$ROOT/bin/tapstack" ] || return 1
    local f missing=""
    for f in bin/tapstack bin/tapstack-run lib/libtapstack-preload.so \
             share/man/man1/tapstack-run.1 \
             lib/libtapstack.a lib/libtapstack.so lib/libtapstack.so.0 \
             include/tapstack/tapstack.h include/tapstack/ts_server.h \
             lib/pkgconfig/tapstack.pc share/man/man3/tapstack.3 \
             share/man/man8/tapstack.8; do
        [ -e "$ROOT/$f" ] || missing="$missing $f"
    done
    check "every file in place" same "$missing" ""
    check "libtapstack.so -> libtapstack.so.0 -> libtapstack.so.0.X.Y" \
        test "$(readlink "$ROOT/lib/libtapstack.so")" = libtapstack.so.0 -a \
             -f "$ROOT/lib/$(readlink "$ROOT/lib/libtapstack.so.0")"
    check "soname libtapstack.so.0" said_soname
    local nm_a
    nm_a=$(nm --defined-only "$ROOT/lib/libtapstack.a" 2>/dev/null |
           grep -E ' T (ts_http_|ts_services_|ts_app_)')
    check "libtapstack.a holds no tools/lib code" same "$nm_a" ""
    local untagged want got
    untagged=$(grep -hE '^[a-z].*[^a-z_]ts_[a-z_0-9]+\(' "$ROOT"/include/tapstack/*.h |
               grep -vE '^(TS_API|typedef|static) ')
    check "every function the headers declare is TS_API" same "$untagged" ""
    want=$(grep -h '^TS_API' "$ROOT"/include/tapstack/*.h | sed 's/(.*//' |
           grep -o '[a-z_0-9]*$' | sort)
    got=$(nm -D --defined-only "$ROOT/lib/libtapstack.so" | awk '{ print $3 }' | sort)
    check "libtapstack.so exports exactly the TS_API functions ($(wc -w <<<"$want"))" \
        same "$(words "$got")" "$(words "$want")"
}

said_soname() {
    readelf -d "$ROOT/lib/libtapstack.so" >"$OUT" && said 'SONAME.*\[libtapstack.so.0\]'
}

test_headers() {
    ts_section "the installed headers, alone"
    local h
    for h in tapstack.h ts_server.h; do
        check "<tapstack/$h> alone, C11 -pedantic" status_is 0 \
            cc -std=c11 -Wall -Wextra -Werror -pedantic -fsyntax-only -x c \
            -I"$ROOT/include" - <<<"#include <tapstack/$h>"
        if ts_have c++; then
            check "<tapstack/$h> alone, C++" status_is 0 \
                c++ -Wall -Wextra -Werror -fsyntax-only -x c++ \
                -I"$ROOT/include" - <<<"#include <tapstack/$h>"
        else
            check_skip "<tapstack/$h> alone, C++" "no c++ compiler"
        fi
    done
}

test_app() {
    ts_section "a program built with pkg-config against the installed tree"
    export PKG_CONFIG_LIBDIR=$ROOT/lib/pkgconfig PKG_CONFIG_PATH='' \
           PKG_CONFIG_SYSROOT_DIR=$STAGE
    ts_have pkg-config || { check_skip "pkg-config" "not installed (tools/install-deps.sh)"; return; }
    check "pkg-config --modversion is tapstack -V's" same \
        "tapstack $(pkg-config --modversion tapstack)" "$("$BUILD/tapstack" -V)"
    local cflags libs slibs
    cflags=$(pkg-config --cflags tapstack) libs=$(pkg-config --libs tapstack)
    slibs=$(pkg-config --static --libs tapstack)
    check "Libs.private: -lpcap -ljansson -pthread" same "$(words "$slibs")" \
        "$(words "$libs") -lpcap -ljansson -pthread"
    # shellcheck disable=SC2086 # word splitting of the flags is wanted
    check "cc app.c \$(pkg-config --cflags --libs tapstack)" status_is 0 \
        cc -Wall -Wextra -Werror -o "$TMP/app" tests/install/app.c $cflags $libs
    # shellcheck disable=SC2086
    check "the same, static: libtapstack.a + pkg-config --static" status_is 0 \
        cc -Wall -Wextra -Werror -o "$TMP/app-static" tests/install/app.c \
        $cflags ${slibs/-ltapstack/-l:libtapstack.a}
    local lib=$ROOT/lib
    check "shared: needs libtapstack.so.0, found in the stage" needs_ours
    check "static: no libtapstack.so" not_needed
    local app run
    for app in app app-static; do
        run="env LD_LIBRARY_PATH=$lib LD_BIND_NOW=1 $TMP/$app"
        [ "$app" = app-static ] && run="$TMP/$app"
        # shellcheck disable=SC2086 # $run is a command line
        check "$app --help: usage, status 0" runs 0 Usage: $run --help
        # shellcheck disable=SC2086
        check "$app 99999: refused, status 2" runs 2 "invalid port" $run 99999
        # shellcheck disable=SC2086
        check "$app --addr nonsense: the library's reason, status 2" \
            runs 2 "invalid address" $run --addr nonsense --iface tsinstnone
    done
}

needs_ours() {
    readelf -d "$TMP/app" >"$OUT" && said 'NEEDED.*\[libtapstack.so.0\]' &&
        LD_LIBRARY_PATH=$ROOT/lib ldd "$TMP/app" >"$OUT" &&
        said "libtapstack.so.0 => $ROOT/lib/"
}

not_needed() {
    readelf -d "$TMP/app-static" >"$OUT" && ! grep -q libtapstack "$OUT"
}

test_man() {
    ts_section "man pages"
    ts_have groff || { check_skip "man pages" "groff not installed (tools/install-deps.sh)"; return; }
    local m
    for m in "$ROOT"/share/man/man*/*; do
        check "groff -man -ww ${m#"$ROOT"/share/man/}: no warning" man_clean "$m"
    done
    local o missing=""
    for o in $("$BUILD/tapstack" --help | grep -oE -- '(^| )--?[a-zA-Z][a-z-]*' | sort -u); do
        grep -qF -- "$(printf '%s' "$o" | sed 's/-/\\-/g')" \
            "$ROOT/share/man/man8/tapstack.8" || missing="$missing $o"
    done
    check "tapstack.8 names every option of tapstack --help" same "$missing" ""
}

man_clean() {
    if ! groff -man -Tutf8 -ww -z "$1" >"$OUT" 2>&1 || [ -s "$OUT" ]; then
        sed 's/^/#   /' "$OUT"
        return 1
    fi
    if ts_have man; then
        MANWIDTH=80 man -l "$1" >"$OUT" 2>&1 && said "NAME"
    fi
}

# The installed tapstack-run preloads the installed library (PREFIX/lib,
# found from PREFIX/bin): a stand-in control socket answers its check, and
# the program it runs reports its LD_PRELOAD.
test_run() {
    ts_section "the installed tapstack-run"
    local name="ts-install-$$" pid
    /usr/bin/python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind("\0" + sys.argv[1]); s.listen(4); time.sleep(10)' "$name" &
    pid=$!
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        "$ROOT/bin/tapstack-run" --ctl "@$name" -- sh -c 'echo "$LD_PRELOAD"' \
            >"$OUT" 2>&1 && break
        sleep 0.2
    done
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    check "it runs the program with PREFIX/lib/libtapstack-preload.so" \
        said "$ROOT/bin/../lib/libtapstack-preload.so\|$ROOT/lib/libtapstack-preload.so"
    check "exit 2 and a one-line reason when no tapstack answers" \
        runs 2 "no tapstack answers" "$ROOT/bin/tapstack-run" --ctl "@$name-none" -- true
}

test_uninstall() {
    ts_section "make uninstall"
    check "make uninstall" mk uninstall
    local left
    left=$(cd "$STAGE" && find . ! -type d | sed 's/^\.//')
    check "no file left behind" same "$left" ""
}

if test_layout; then
    test_headers
    test_app
    test_man
    test_run
fi
test_uninstall
ts_summary
