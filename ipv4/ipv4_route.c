/* ipv4/ipv4_route.c - the interface table and route choice: which
 * interface a datagram leaves by, which source address it carries, and
 * which addresses are ours (see ipv4.h).
 *
 * The table is a handful of entries scanned in order, so a lookup costs a
 * few comparisons: no cache to keep coherent. The rules are Linux's for a
 * host with one address per interface: local and 127/8 destinations by
 * the loopback interface, a subnet by its interface, the rest by the
 * gateway; a 127/8 source never leaves by a wire (RFC 1122 §3.2.1.3).
 */
#include "ipv4/ipv4.h"

#include <errno.h>
#include <string.h>

#include "core/addr.h"

struct ipv4_if *ipv4_add_if(struct ipv4_layer *ip, struct eth_layer *eth,
                            struct arp_layer *arp, uint32_t addr,
                            uint8_t prefix, uint32_t mtu)
{
    if (ip->nifs == IPV4_MAX_IFS)
        return NULL;
    struct ipv4_if *ifp = &ip->ifs[ip->nifs++];
    memset(ifp, 0, sizeof *ifp);
    memcpy(ifp->name, eth->dev->name, NETDEV_NAMELEN);
    ifp->name[NETDEV_NAMELEN - 1] = '\0';
    ifp->addr = addr;
    ifp->prefix = prefix;
    ifp->mask = ts_ip4_mask(prefix);
    /* RFC 791: every host link carries 68-byte datagrams; below that a
     * fragment could not hold 8 bytes of data and fragmenting never ends. */
    ifp->mtu = mtu < IPV4_MIN_MTU ? IPV4_MIN_MTU : mtu;
    ifp->flags = eth->dev->flags;
    ifp->gso_max = eth->dev->gso_max;
    ifp->eth = eth;
    ifp->arp = arp;
    ifp->ip = ip;
    if ((ifp->flags & NETDEV_F_LOOPBACK) && !ip->lo)
        ip->lo = ifp;
    return ifp;
}

static int ipv4_if_is_wire(const struct ipv4_if *ifp)
{
    return !(ifp->flags & NETDEV_F_LOOPBACK);
}

/* Is addr on ifp's subnet? Point-to-point (/31, /32) subnets included. */
static int ipv4_if_onlink(const struct ipv4_if *ifp, uint32_t addr)
{
    return (addr & ifp->mask) == (ifp->addr & ifp->mask);
}

/* The subnet-directed broadcast exists only for subnets with hosts. */
static int ipv4_if_bcast(const struct ipv4_if *ifp, uint32_t addr)
{
    return ifp->prefix < 31 && (addr & ~ifp->mask) == ~ifp->mask &&
           ipv4_if_onlink(ifp, addr);
}

int ipv4_is_local(const struct ipv4_layer *ip, uint32_t addr)
{
    if (ip->lo && ipv4_if_onlink(ip->lo, addr))
        return 1;
    for (unsigned i = 0; i < ip->nifs; i++)
        if (ip->ifs[i].addr == addr)
            return 1;
    return 0;
}

int ipv4_is_broadcast(const struct ipv4_layer *ip, uint32_t addr)
{
    if (addr == 0xffffffffu)
        return 1;
    for (unsigned i = 0; i < ip->nifs; i++)
        if (ipv4_if_is_wire(&ip->ifs[i]) && ipv4_if_bcast(&ip->ifs[i], addr))
            return 1;
    return 0;
}

int ipv4_is_martian(const struct ipv4_layer *ip, uint32_t addr)
{
    uint32_t top = addr >> 24;
    if (top == 0 || top == 127 || top >= 224 || ipv4_is_local(ip, addr) ||
        ipv4_is_broadcast(ip, addr))
        return 1;
    /* A subnet's all-zeros address is an old-style broadcast (RFC 1122
     * §3.3.6), not a host: answering it would ARP for a broadcast. */
    for (unsigned i = 0; i < ip->nifs; i++) {
        const struct ipv4_if *ifp = &ip->ifs[i];
        if (ipv4_if_is_wire(ifp) && ifp->prefix < 31 &&
            (addr & ~ifp->mask) == 0 && ipv4_if_onlink(ifp, addr))
            return 1;
    }
    return 0;
}

/* The wire interface whose subnet holds dst (or whose broadcast it is);
 * the limited broadcast goes out of the first. NULL if none. */
static const struct ipv4_if *ipv4_if_for(const struct ipv4_layer *ip,
                                         uint32_t dst)
{
    for (unsigned i = 0; i < ip->nifs; i++)
        if (ipv4_if_is_wire(&ip->ifs[i]) &&
            (dst == 0xffffffffu || ipv4_if_onlink(&ip->ifs[i], dst)))
            return &ip->ifs[i];
    return NULL;
}

/* Local delivery: the destination is ours. Linux answers `ip route get`
 * for one of its addresses with "local X dev lo src X", and for the rest
 * of 127/8 with src 127.0.0.1. */
static int ipv4_route_local(const struct ipv4_layer *ip, uint32_t dst,
                            uint32_t src, struct ipv4_route *rt)
{
    if (!ip->lo)
        return -ENETUNREACH;
    rt->ifp = ip->lo;
    rt->src = src ? src : ipv4_if_onlink(ip->lo, dst) ? ip->lo->addr : dst;
    return 0;
}

int ipv4_route_lookup(const struct ipv4_layer *ip, uint32_t dst, uint32_t src,
                      struct ipv4_route *rt)
{
    memset(rt, 0, sizeof *rt);
    if (src && !ipv4_is_local(ip, src))
        return -EINVAL;
    if (dst == 0)               /* "this host" (Linux's ip_route_output) */
        dst = src ? src : IPV4_LOOPBACK_ADDR;
    rt->dst = rt->next_hop = dst;
    if (ipv4_is_local(ip, dst))
        return ipv4_route_local(ip, dst, src, rt);
    const struct ipv4_if *ifp = ipv4_if_for(ip, dst);
    if (!ifp) {
        if (!ip->cfg.gateway || !ip->nifs)
            return -ENETUNREACH;
        rt->next_hop = ip->cfg.gateway;
        ifp = ipv4_if_for(ip, ip->cfg.gateway);
        if (!ifp)
            ifp = &ip->ifs[0];
    }
    /* RFC 1122 §3.2.1.3: 127/8 must never appear outside a host. */
    if (src && IPV4_LOOPBACK_NET(src))
        return -EINVAL;
    rt->ifp = ifp;
    rt->src = src ? src : ifp->addr;
    return 0;
}

uint32_t ipv4_route_mtu(const struct ipv4_layer *ip, uint32_t dst)
{
    struct ipv4_route rt;
    uint32_t mtu = ipv4_route_lookup(ip, dst, 0, &rt) == 0 ? rt.ifp->mtu
                                                          : ip->cfg.mtu;
    return mtu > IPV4_MAX_LEN ? IPV4_MAX_LEN : mtu;
}
