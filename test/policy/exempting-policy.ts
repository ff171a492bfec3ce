/**
 * A policy whose own policy-map inspects the connections access-list T permits (a deny exempts
 * the connection), replacing global_policy: append `access-list T …` lines to it.
 */
export const WRAP = `class-map T
 match access-list T
policy-map TP
 class T
  inspect esmtp
no service-policy global_policy global
service-policy TP global
`;
