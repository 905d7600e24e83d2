/**
 * TCP MD5 signatures (RFC 2385) and GTSM / TTL security (RFC 5082) as socket options.
 *
 * Linux keeps MD5 keys per socket and per peer address (`struct tcp_md5sig`); a key
 * on a listening socket is inherited by the connections it accepts, so the passive
 * side sets one key per configured peer on the listener, and the active side sets
 * the key on its socket before connect (the SYN must already be signed). An empty
 * key deletes the peer's entry.
 */
import {
  AF_INET, IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP, IP_MINTTL, IP_TTL, IPV6_MINHOPCOUNT, IPV6_UNICAST_HOPS,
  TCP_MD5SIG, familyOf, setsockopt, setsockoptInt, sockaddr,
} from './sockopt.js';

/** TCP_MD5SIG_MAXKEYLEN in linux/tcp.h */
export const MD5_MAX_KEY_LEN = 80;
const SOCKADDR_STORAGE = 128;
const STRUCT_SIZE = SOCKADDR_STORAGE + 1 + 1 + 2 + 4 + MD5_MAX_KEY_LEN; // 216

/** `struct tcp_md5sig` for one peer: sockaddr_storage, flags, prefixlen, keylen, ifindex, key[80]. */
export function md5SigStruct(peer: string, key: string): Buffer {
  const keyBytes = Buffer.from(key, 'utf8');
  if (keyBytes.length > MD5_MAX_KEY_LEN) throw new Error(`TCP MD5 password is longer than ${MD5_MAX_KEY_LEN} bytes`);
  const buf = Buffer.alloc(STRUCT_SIZE);
  sockaddr(peer, 0).copy(buf, 0);
  buf.writeUInt16LE(keyBytes.length, SOCKADDR_STORAGE + 2); // tcpm_keylen (host order)
  keyBytes.copy(buf, SOCKADDR_STORAGE + 8);
  return buf;
}

/** Sets (or with `key` = '' removes) the MD5 key for `peer` on socket `fd`. */
export function setMd5Key(fd: number, peer: string, key: string): void {
  try {
    setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, md5SigStruct(peer, key));
  } catch (err) {
    // removing a key that was never set answers ENOENT: that is the desired state
    if (key === '' && /No such file/.test((err as Error).message)) return;
    throw new Error(`TCP_MD5SIG for ${peer}: ${(err as Error).message}`);
  }
}

/**
 * GTSM (RFC 5082): send with TTL 255 and drop anything that arrived with TTL below
 * 255 - hops + 1 (IPv6: hop limit). `hops` is the allowed distance, 1 for a direct peer.
 */
export function setTtlSecurity(fd: number, peer: string, hops = 1): void {
  const min = 256 - hops;
  if (familyOf(peer) === AF_INET) {
    setsockoptInt(fd, IPPROTO_IP, IP_TTL, 255);
    setsockoptInt(fd, IPPROTO_IP, IP_MINTTL, min);
  } else {
    setsockoptInt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 255);
    setsockoptInt(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, min);
  }
}
