#!/bin/sh
':' /*-
# The installed smtp-inspect program: a shell script and a CommonJS module in one file.
# As a shell script: Node parses every certificate named by NODE_EXTRA_CA_CERTS before it runs a
# line of JavaScript (30 ms of a 48 ms start on a host that names the system bundle there), and
# smtp-inspect opens no TLS connection, so the variable is dropped; then Node runs this same file.
unset NODE_EXTRA_CA_CERTS
exec node "$0" "$@"
*/
// As CommonJS: the entry proper (src/cli/smtp-inspect.cts) sizes the thread pool and loads the CLI.
require('./smtp-inspect.cjs');
