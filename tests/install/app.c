/* tests/install/app.c - a library user's program, built by
 * tests/install/run.sh against an installed tapstack only: the headers as
 * <tapstack/...>, the flags from pkg-config, linked shared and static.
 *
 * A TCP echo server on ts_server:
 *     app [--iface NAME] [--addr A.B.C.D/N] [--host-addr A.B.C.D/N] [PORT]
 * --help prints the usage (exit 0); a bad PORT or option is one line on
 * stderr (exit 2); so is a stack that cannot be opened, with the library's
 * own reason. So without a TAP the test still sees it load, parse and
 * reach the library (`--addr nonsense` fails inside ts_stack_open).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tapstack/tapstack.h>
#include <tapstack/ts_server.h>

static const char usage[] =
    "Usage: app [--iface NAME] [--addr A.B.C.D/N] [--host-addr A.B.C.D/N] [PORT]\n"
    "Echo every byte each TCP client sends to PORT (default 7) on a stack\n"
    "of its own on the TAP NAME (default tap0).\n";

static void echo(struct ts_stack *st, int fd, const struct sockaddr_in *peer,
                 void *ctx)
{
    char buf[4096];
    ssize_t n;
    (void)peer, (void)ctx;
    while ((n = ts_recv(st, fd, buf, sizeof buf, 0)) > 0)
        ts_send(st, fd, buf, (size_t)n, 0);
}

static int bad(const char *what, const char *arg)
{
    fprintf(stderr, "app: invalid %s '%s' (try --help)\n", what, arg);
    return 2;
}

int main(int argc, char **argv)
{
    struct ts_stack_config cfg;
    char why[256] = "";
    long port = 7;
    ts_stack_config_init(&cfg);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if ((!strcmp(a, "--iface") || !strcmp(a, "--addr") ||
             !strcmp(a, "--host-addr")) && i + 1 < argc) {
            const char *v = argv[++i];
            if (a[2] == 'i')
                cfg.iface = v;
            else if (a[2] == 'a')
                cfg.addr = v;
            else
                cfg.host_addr = v;
            continue;
        }
        char *end;
        port = strtol(a, &end, 10);
        if (a[0] == '-' || *end || port < 1 || port > 65535 || i + 1 < argc)
            return bad(a[0] == '-' ? "option" : "port", a);
    }
    cfg.errbuf = why;
    cfg.errlen = sizeof why;
    struct ts_stack *st = ts_stack_open(&cfg);
    if (!st) {
        fprintf(stderr, "app: %s\n", why[0] ? why : "cannot open the stack");
        return 2;
    }
    struct ts_server *srv = ts_server_start(st, (uint16_t)port, echo, NULL);
    if (!srv) {
        perror("app: cannot listen");
        ts_stack_close(st);
        return 1;
    }
    pause();
    ts_server_stop(srv);
    ts_stack_close(st);
    return 0;
}
