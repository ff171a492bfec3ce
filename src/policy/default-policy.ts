/**
 * The ASA 9.x factory default, kept as policy text and compiled by the same parser: the default
 * ESMTP map exactly as ASA-ESMTP.md §3.5 quotes it ([S1]; the same 7 matches and mask-banner on an
 * older device, ADDENDUM B-14) and the default global policy of §4.1 ([S30]), reduced to the
 * ESMTP inspection (the other default inspect lines select other protocols).
 */
export const DEFAULT_POLICY_TEXT = `! ASA 9.x factory default (ESMTP part)
policy-map type inspect esmtp _default_esmtp_map
 description Default ESMTP policy-map
 parameters
  mask-banner
  no mail-relay
  no special-character
  no allow-tls
 match cmd line length gt 512
  drop-connection log
 match cmd RCPT count gt 100
  drop-connection log
 match body line length gt 998
  log
 match header line length gt 998
  drop-connection log
 match sender-address length gt 320
  drop-connection log
 match MIME filename length gt 255
  drop-connection log
 match ehlo-reply-parameter others
  mask
class-map inspection_default
 match default-inspection-traffic
policy-map global_policy
 class inspection_default
  inspect esmtp _default_esmtp_map
service-policy global_policy global
`;

export const DEFAULT_POLICY_SOURCE = '<default>';
