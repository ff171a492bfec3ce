/** Real frames copied from the shared corpus (hex as `tcpdump -xx` prints it), for decode tests. */

export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/0x[0-9a-f]{4}:|\s+/g, ''), 'hex');
}

/**
 * external/pcaps/sv-quit.pcap frame 3 (Ethernet, 60 bytes on the wire, 6 bytes of padding):
 * 10.127.0.202.58121 > 41.225.70.195.25: Flags [.], cksum 0x9bd0 (incorrect -> 0x9bcc), seq 1, ack 1,
 * win 257, length 0   (IP length 40; ttl 128, id 31434, DF)
 */
export const SV_QUIT_ACK_PADDED = hex(`
  6ab9 55e3 e280 5a19 b4a2 c4de 0800 4500
  0028 7aca 4000 8006 0419 0a7f 00ca 29e1
  46c3 e309 0019 78f3 1717 83e2 a00a 5010
  0101 9bd0 0000 0000 0000 0000`);

/**
 * external/pcaps/sv-quit.pcap frame 6:
 * 10.127.0.202.58121 > 41.225.70.195.25: Flags [P.], cksum 0xf40d (incorrect -> 0xf409), seq 1:7, ack 2,
 * win 257, length 6: "QUIT\r\n"
 */
export const SV_QUIT_QUIT = hex(`
  6ab9 55e3 e280 5a19 b4a2 c4de 0800 4500
  002e 7acc 4000 8006 0411 0a7f 00ca 29e1
  46c3 e309 0019 78f3 1717 83e2 a00b 5018
  0101 f40d 0000 5155 4954 0d0a`);

/**
 * external/pcaps/zeek-smtp.pcap frame 4 (checksums valid, captured on the client):
 * 74.53.140.153.25 > 10.10.1.4.1470: Flags [S.], seq 2934727087, ack 2126795697, win 5840,
 * options [mss 1460,nop,nop,sackOK], length 0   (tos 0x60, ttl 50)
 */
export const ZEEK_SYNACK = hex(`
  00e0 1c3c 17c2 001f 33d9 8160 0800 4560
  0030 0000 4000 3206 668c 4a35 8c99 0a0a
  0104 0019 05be aeec 61af 7ec4 53b1 7012
  16d0 a17a 0000 0204 05b4 0101 0402`);

/**
 * external/pcaps/zeek-communityid-ipv6.pcap frame 2 (checksum valid):
 * IP6 2607:f8b0:400c:c03::1a.25 > 2001:470:e5bf:dead:4957:2174:e82c:4887.63943: Flags [S.],
 * seq 2506332060, ack 60852273, win 42966, options [mss 1386,nop,nop,sackOK,nop,wscale 7], length 0
 * (hop limit 56)
 */
export const ZEEK_IPV6_SYNACK = hex(`
  68a3 c4f9 49f6 5475 d0c9 0b81 86dd 6000
  0000 0020 0638 2607 f8b0 400c 0c03 0000
  0000 0000 001a 2001 0470 e5bf dead 4957
  2174 e82c 4887 0019 f9c7 9563 979c 03a0
  8831 8012 a7d6 2583 0000 0204 056a 0101
  0402 0103 0307`);

/**
 * generated/18a-any-linux-sll2.pcap frame 1 (LINUX_SLL2, tcpdump -i any; loopback, so the TCP
 * checksum is the offload placeholder 0xfe30):
 * lo In IP 127.0.0.1.40065 > 127.0.0.1.25: Flags [S], seq 2794650592, win 65495,
 * options [mss 65495,sackOK,TS val 580893805 ecr 0,nop,wscale 10], length 0
 */
export const SLL2_SYN = hex(`
  0800 0000 0000 0001 0304 0006 0000 0000
  0000 0000 4500 003c 333c 4000 4006 097e
  7f00 0001 7f00 0001 9c81 0019 a692 fbe0
  0000 0000 a002 ffd7 fe30 0000 0204 ffd7
  0402 080a 229f bc6d 0000 0000 0103 030a`);

/**
 * generated/18b-any-linux-sll.pcap frame 1 (LINUX_SLL):
 * IP 127.0.0.1.40066 > 127.0.0.1.25: Flags [S], seq 527834301, win 65495,
 * options [mss 65495,sackOK,TS val 4163152491 ecr 0,nop,wscale 10], length 0
 */
export const SLL_SYN = hex(`
  0000 0304 0006 0000 0000 0000 0000 0800
  4500 003c 2e07 4000 4006 0eb3 7f00 0001
  7f00 0001 9c82 0019 1f76 1cbd 0000 0000
  a002 ffd7 fe30 0000 0204 ffd7 0402 080a
  f824 aa6b 0000 0000 0103 030a`);

/**
 * external/pcaps/sv-url-base64-2525.pcap frame 4 (NULL, AF 2 little-endian; header checksum 0,
 * as macOS loopback captures have it):
 * IP 127.0.0.1.2525 > 127.0.0.1.49515: Flags [.], ack 1, win 6379,
 * options [nop,nop,TS val 1108824727 ecr 833913161], length 0
 */
export const NULL_ACK = hex(`
  0200 0000 4500 0034 0000 4000 4006 0000
  7f00 0001 7f00 0001 09dd c16b b036 1d8a
  f981 ba11 8010 18eb fe28 0000 0101 080a
  4217 5297 31b4 8149`);

/**
 * generated/02-ehlo-basic.pcap frame 6 (Ethernet on lo):
 * IP 127.0.0.1.40002 > 127.0.0.1.25: Flags [P.], seq 1:27, ack 51, win 64,
 * options [nop,nop,TS val 4191537727 ecr 451797359], length 26: "EHLO client.example.test\r\n"
 */
export const EHLO = hex(`
  0000 0000 0000 0000 0000 0000 0800 4500
  004e 803c 4000 4006 bc6b 7f00 0001 7f00
  0001 9c42 0019 355e bc44 ca39 b303 8018
  0040 fe42 0000 0101 080a f9d5 ca3f 1aed
  e16f 4548 4c4f 2063 6c69 656e 742e 6578
  616d 706c 652e 7465 7374 0d0a`);
