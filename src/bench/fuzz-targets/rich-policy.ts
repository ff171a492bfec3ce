/**
 * A policy that switches on every ESMTP match criterion the engine knows (mostly `log`, so a
 * session keeps being inspected after a hit), including user regexes written to backtrack
 * catastrophically in a backtracking engine. Used by the smtp-engine and policy fuzz targets and
 * by test/hostile. Registers no fuzz target.
 */
export const RICH_MAP_NAME = 'HOSTILE-RICH';

export const RICH_POLICY_TEXT = `! every criterion, hostile regexes
regex evil_sender "(a|aa)*b"
regex nested_star "(a*)*b"
regex exe_type "application/x-ms.*"
class-map type regex match-any bad_types
 match regex nested_star
 match regex exe_type
policy-map type inspect esmtp ${RICH_MAP_NAME}
 parameters
  mask-banner
  mail-relay example.test action log
  special-character action log
  allow-tls action log
 match cmd line length gt 200
  log
 match cmd verb VRFY ETRN
  log
 match cmd RCPT count gt 5
  log
 match body length gt 100000
  log
 match body line length gt 500
  log
 match header length gt 2000
  log
 match header line length gt 300
  log
 match header to-fields count gt 3
  log
 match invalid-recipients count gt 2
  log
 match mime filetype class bad_types
  log
 match mime filename length gt 30
  log
 match mime encoding quoted-printable
  log
 match sender-address regex evil_sender
  log
 match sender-address length gt 50
  log
 match ehlo-reply-parameter 8bitmime
  mask
 match ehlo-reply-parameter others
  mask
policy-map global_policy
 class inspection_default
  no inspect esmtp
  inspect esmtp ${RICH_MAP_NAME}
`;
