/**
 * 302014's "TCP Reset-I" / "TCP Reset-O" name the side that sent the RST (inside / outside). The
 * flow table closes the connection while it handles the RST, before the pipeline had recorded the
 * sender, so every reset was logged as the client's: a server inside resetting was "Reset-O".
 * Real Linux loopback sessions (fixtures/make-reset-by-side.py): the first reset by the server
 * (SO_LINGER 0), the second by the client.
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/shared.js';
import { replayToTemp } from '../replay/helpers.js';

const FIXTURE = path.join(REPO_ROOT, 'test', 'pipeline', 'fixtures', 'reset-by-server-then-client.pcap');

describe('302014 names the reset\'s sender', () => {
  it.each(['asa', 'analysis'] as const)('profile %s: server inside resets -> Reset-I, client outside resets -> Reset-O', async (profile) => {
    const r = await replayToTemp(FIXTURE, { profile });
    const teardowns = readFileSync(r.syslog, 'utf8').split('\n').filter((l) => l.includes('302014'));
    expect(teardowns).toHaveLength(2);
    expect(teardowns[0]).toMatch(/Teardown TCP connection 1 for outside:127\.0\.0\.10\/37943 to inside:127\.0\.0\.25\/25 .* TCP Reset-I$/);
    expect(teardowns[1]).toMatch(/Teardown TCP connection 2 for outside:127\.0\.0\.10\/58251 to inside:127\.0\.0\.25\/25 .* TCP Reset-O$/);
  });
});
