/* tools/ts-httpd.c - an HTTP/1.1 file server on tapstack (GET and HEAD,
 * keep-alive, Content-Length, 404, path traversal refused): the ts_http
 * library behind a command line. */
#include <stdlib.h>

#include "tools/lib/ts_app.h"
#include "tools/lib/ts_http.h"

int main(int argc, char **argv)
{
    struct ts_app app = { .name = "ts-httpd", .synopsis = "[OPTION]... [DIR]",
        .help = "Serve the files under DIR over HTTP/1.1 (GET and HEAD, keep-alive),\n"
                "or a built-in page for / when no DIR is given, until SIGINT or\n"
                "SIGTERM. Paths that leave DIR (.., %2e%2e, symlinks out) are refused.\n"
                "\n"
                "  -p, --port PORT          TCP port to serve on (default 80)\n",
        .epilog = "Example, from the host side of the TAP:\n"
                  "  curl -O http://10.0.0.2/file\n"
                  "Exit status: 0 after a signal, 1 when the port is taken, 2 on bad\n"
                  "arguments.\n" };
    static const struct option opts[] = {
        { "port", required_argument, NULL, 'p' }, TS_APP_LONGOPTS, { 0 } };
    uint16_t port = 80;
    ts_app_init(&app);
    for (int c; (c = getopt_long(argc, argv, "p:" TS_APP_SHORTOPTS, opts, NULL)) != -1;) {
        if (c == 'p')
            port = ts_app_port(&app, "--port", optarg);
        else
            ts_app_option(&app, c, optarg);
    }
    const char *dir = optind < argc ? argv[optind++] : NULL;
    if (optind < argc)
        ts_app_usage_error(&app, "unexpected argument '%s'", argv[optind]);
    struct ts_stack *st = ts_app_open(&app);
    struct ts_http *h = ts_http_start(st, port, dir);
    if (h) {
        fprintf(stderr, "ts-httpd: serving %s on port %u\n",
                dir ? dir : "the built-in page", ts_http_port(h));
        ts_app_wait();
        ts_http_stop(h);
    } else {
        perror("ts-httpd: cannot serve");
    }
    ts_app_close(&app, st);
    return h ? 0 : 1;
}
