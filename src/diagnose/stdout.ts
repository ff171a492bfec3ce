/** `smtp-inspect diagnose … | head`: a reader that goes away is not a crash (exit 3, "output closed"). */
import { EXIT } from '../errors.js';

let installed = false;

export function exitQuietlyOnClosedStdout(): void {
  if (installed) return;
  installed = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.OUTPUT);
    throw err;
  });
}
