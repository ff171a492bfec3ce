/**
 * The connection an engine session runs in when there is no capture around it (the smtp-engine
 * fuzz target, the hostile bench section, the engine's unit tests): one client on outside talking
 * to a server on inside, inspected by the default class. No side effects on import.
 */
import type { SessionContext } from '../inspect/types.js';

export const ENGINE_CTX: SessionContext = {
  conn: {
    id: 1,
    ipVersion: 4,
    clientIp: '198.51.100.7',
    clientPort: 40003,
    serverIp: '192.0.2.25',
    serverPort: 25,
    client: '198.51.100.7:40003',
    server: '192.0.2.25:25',
    clientBy: 'syn',
    synSeen: true,
    firstPacket: 1,
    firstTimeSec: 0,
    firstTimeNsec: 0,
  },
  clientInterface: 'outside',
  serverInterface: 'inside',
  policyMap: 'global_policy',
  className: 'inspection_default',
};
