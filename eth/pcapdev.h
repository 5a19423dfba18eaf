/* eth/pcapdev.h - a netdev wrapper that captures every frame to a pcap file.
 *
 * Wraps any netdev: frames received from it and sent to it are written with
 * libpcap (pcap_open_dead + pcap_dump, LINKTYPE_ETHERNET) before being passed
 * on. Frames are numbered from 1 in capture order, the number Wireshark
 * shows, so logs and traces can name the frame that caused them. The file is
 * flushed by pcapdev_flush() (the event loop calls it every second and on
 * SIGINT/SIGTERM) and on close, so it is always readable.
 * A received frame carries its number in pb->frame; the number of each
 * frame sent goes to the event path (ts_ev_frame_out) once
 * pcapdev_set_events() names it.
 * Entry points: pcapdev_wrap, pcapdev_flush, pcapdev_frames,
 * pcapdev_set_events.
 */
#ifndef TS_ETH_PCAPDEV_H
#define TS_ETH_PCAPDEV_H

#include <stdint.h>

#include "core/event.h"
#include "eth/netdev.h"

/* Wrap inner, writing to path. On failure returns NULL, leaves inner open and
 * writes libpcap's reason into errbuf (errlen bytes). Closing the wrapper
 * closes inner too. */
struct netdev *pcapdev_wrap(struct netdev *inner, const char *path,
                            char *errbuf, size_t errlen);
void pcapdev_flush(struct netdev *dev);
/* Report each sent frame's number to ev (NULL: to nobody). */
void pcapdev_set_events(struct netdev *dev, struct ts_events *ev);
/* Number of frames captured so far (the last frame's number). */
uint64_t pcapdev_frames(const struct netdev *dev);

#endif
