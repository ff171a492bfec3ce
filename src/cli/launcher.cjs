#!/bin/sh
':' /*-
# The installed smtp-inspect program: a shell script and a CommonJS module in one file.
# As a shell script it starts Node the way the program runs best, then Node runs this same file:
# - NODE_EXTRA_CA_CERTS is dropped: Node parses every certificate it names before it runs a line
#   of JavaScript (30 ms of a 48 ms start on a host that names the system bundle there), and
#   smtp-inspect opens no TLS connection.
# - --max-semi-space-size=2 (MiB; Node 20's default is 16): a small young generation is scavenged
#   more often, which frees the captures' short-lived chunk Buffers sooner: peak RSS 20-25 MB lower
#   (replay of the 1.1 GB bench capture 125 -> 100 MB, a gzip capture's info 104 -> 90 MB) at equal
#   speed. V8 reads it only at start-up. A semi-space size in NODE_OPTIONS is the user's and wins.
# Keep in step with LAUNCHER_NODE_ARGS in src/bench/measure.ts (the bench starts its worker alike).
unset NODE_EXTRA_CA_CERTS
case " $NODE_OPTIONS " in
  *semi-space-size*|*semi_space_size*) exec node "$0" "$@" ;;
esac
exec node --max-semi-space-size=2 "$0" "$@"
*/
// As CommonJS: the entry proper (src/cli/smtp-inspect.cts) sizes the thread pool and loads the CLI.
require('./smtp-inspect.cjs');
