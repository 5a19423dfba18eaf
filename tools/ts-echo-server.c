/* tools/ts-echo-server.c - TCP echo (RFC 862) on tapstack: ts_server's example. */
#include "tools/lib/ts_app.h"
#include "socket_api/ts_server.h"

static void echo(struct ts_stack *st, int fd, const struct sockaddr_in *peer, void *ctx)
{
    char buf[16384];
    ssize_t n;
    (void)peer, (void)ctx;
    while ((n = ts_recv(st, fd, buf, sizeof buf, 0)) > 0 &&
           ts_send(st, fd, buf, (size_t)n, 0) == n)
        ;
}

int main(int argc, char **argv)
{
    struct ts_app app = { .name = "ts-echo-server", .synopsis = "[OPTION]... [PORT]",
        .help = "Send back every byte each TCP client sends to PORT (default 7; RFC 862),\n"
                "a thread per client, until SIGINT or SIGTERM.\n",
        .epilog = "Exit status: 0 after a signal, 1 when PORT is taken, 2 on bad arguments.\n" };
    static const struct option opts[] = { TS_APP_LONGOPTS, { 0 } };
    ts_app_init(&app);
    for (int c; (c = getopt_long(argc, argv, TS_APP_SHORTOPTS, opts, NULL)) != -1;)
        ts_app_option(&app, c, optarg);     /* stack options, --help, errors */
    uint16_t port = optind < argc ? ts_app_port(&app, "PORT", argv[optind++]) : 7;
    if (optind < argc)
        ts_app_usage_error(&app, "unexpected argument '%s'", argv[optind]);
    struct ts_stack *st = ts_app_open(&app);
    struct ts_server *srv = ts_server_start(st, port, echo, NULL);
    if (srv) {
        fprintf(stderr, "ts-echo-server: listening on port %u\n", port);
        ts_app_wait();                      /* until SIGINT or SIGTERM */
        ts_server_stop(srv);
    } else {
        perror("ts-echo-server: cannot listen");
    }
    ts_app_close(&app, st);
    return srv ? 0 : 1;
}
