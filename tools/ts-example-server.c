/* tools/ts-example-server.c - README's first tapstack program: a TCP echo
 * server on 10.0.0.2 port 7, one client at a time, until Ctrl-C. */
#include <stdio.h>
#include "socket_api/tapstack.h"

int main(void)
{
    struct ts_stack_config cfg;
    ts_stack_config_init(&cfg);
    cfg.iface = "tap0";                 /* created if need be (root) */
    cfg.addr = "10.0.0.2/24";           /* the stack's address */
    cfg.host_addr = "10.0.0.1/24";      /* the kernel's side of the TAP */
    struct ts_stack *st = ts_stack_open(&cfg);
    if (!st) {
        perror("ts_stack_open");
        return 2;
    }
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(7) };
    int lfd = ts_socket(st, AF_INET, SOCK_STREAM, 0);
    if (ts_bind(st, lfd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
        ts_listen(st, lfd, 8) < 0)
        perror("listen");
    for (int fd; (fd = ts_accept(st, lfd, NULL, NULL)) >= 0; ts_close(st, fd)) {
        char buf[4096];
        ssize_t n;
        while ((n = ts_recv(st, fd, buf, sizeof buf, 0)) > 0)
            ts_send(st, fd, buf, (size_t)n, 0);
    }
    ts_stack_close(st);
    return 1;
}
