/* tools/ts-example-client.c - README's second tapstack program: connect to
 * 10.0.0.1 port 7000, send a line, half-close, print the answer. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include "socket_api/tapstack.h"

int main(int argc, char **argv)
{
    const char *msg = argc > 1 ? argv[1] : "hello from tapstack\n";
    struct ts_stack_config cfg;
    ts_stack_config_init(&cfg);         /* tap0, 10.0.0.2/24 */
    cfg.host_addr = "10.0.0.1/24";
    struct ts_stack *st = ts_stack_open(&cfg);
    if (!st) {
        perror("ts_stack_open");
        return 2;
    }
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(7000) };
    inet_pton(AF_INET, "10.0.0.1", &to.sin_addr);
    int fd = ts_socket(st, AF_INET, SOCK_STREAM, 0);
    ssize_t n = ts_connect(st, fd, (struct sockaddr *)&to, sizeof to);
    if (n == 0) {
        ts_send(st, fd, msg, strlen(msg), 0);
        ts_shutdown(st, fd, SHUT_WR);   /* the server reads end of stream */
        char buf[4096];
        while ((n = ts_recv(st, fd, buf, sizeof buf, 0)) > 0)
            fwrite(buf, 1, (size_t)n, stdout);
    }
    if (n < 0)
        perror("tapstack");
    ts_close(st, fd);
    ts_stack_close(st);
    return n < 0;
}
