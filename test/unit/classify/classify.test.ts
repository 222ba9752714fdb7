import { describe, expect, it } from 'vitest';
import { classifyRequest } from '../../../src/classify/classify.js';
import { exceedsHopLimit, isForwardedClient } from '../../../src/classify/hop-limit.js';
import type { HttpRequest } from '../../../src/http/request.js';
import type { Connection } from '../../../src/tcp/connection-table.js';

const req = (method: string, path: string, hasToken: boolean): HttpRequest => ({
  method, path, hasToken, httpVersion: '1.1', tokenTtlSeconds: null, userAgent: null, forwarded: false,
});

describe('classifyRequest', () => {
  it.each([
    ['GET', '/latest/meta-data/', false, 'v1'],
    ['HEAD', '/latest/meta-data/', false, 'v1'],
    ['PUT', '/latest/api/token', false, 'v2_token'],
    ['PUT', '/latest/api/token/', false, 'v2_token'],
    ['PUT', '/latest/api/token', true, 'v2_token'],
    ['GET', '/latest/meta-data/', true, 'v2_get'],
    ['HEAD', '/latest/meta-data/', true, 'v2_get'],
    ['POST', '/latest/meta-data/', false, 'other'],
    ['PUT', '/latest/meta-data/', false, 'other'],
    ['GET', '/latest/api/token', false, 'v1'],
  ])('%s %s token=%s → %s', (method, path, hasToken, kind) => {
    expect(classifyRequest(req(method, path, hasToken))).toBe(kind);
  });
});

const conn = (client: string, views: string[]): Connection => ({
  id: 1, family: 4, client: { ip: client, port: 1 }, server: { ip: '169.254.169.254', port: 80 },
  views: views.map((ip) => ({ ip, port: 1 })), openedUs: 0, lastSeenUs: 0, clientIsn: 1,
});

describe('hop limit', () => {
  it.each([
    ['host process', conn('10.0.0.2', ['10.0.0.2']), { clientNetns: null, ownNetns: null, localAddresses: new Set(['10.0.0.2']) }, false],
    ['NATed container', conn('172.17.0.2', ['172.17.0.2', '10.0.0.2']), { clientNetns: null, ownNetns: null, localAddresses: null }, true],
    ['routed pod (not a local address)', conn('192.168.5.5', ['192.168.5.5']), { clientNetns: null, ownNetns: null, localAddresses: new Set(['10.0.0.2']) }, true],
    ['unknown local addresses', conn('192.168.5.5', ['192.168.5.5']), { clientNetns: null, ownNetns: null, localAddresses: null }, false],
    ['another netns, whatever the address', conn('10.0.0.2', ['10.0.0.2']), { clientNetns: 7, ownNetns: 1, localAddresses: new Set(['10.0.0.2']) }, true],
    ['same netns, address added after start', conn('10.9.9.9', ['10.9.9.9']), { clientNetns: 1, ownNetns: 1, localAddresses: new Set(['10.0.0.2']) }, false],
  ])('%s: forwarded=%s', (_n, c, place, forwarded) => {
    expect(isForwardedClient(c, place)).toBe(forwarded);
  });

  it.each([
    ['v2_token', true, 1, true],
    ['v2_token', true, 2, false],
    ['v2_token', false, 1, false],
    ['v2_token', true, null, false],
    ['v2_get', true, 1, false],
    ['v1', true, 1, false],
  ] as const)('%s forwarded=%s ttl=%s → %s', (kind, forwarded, ttl, exceeded) => {
    expect(exceedsHopLimit(kind, forwarded, ttl)).toBe(exceeded);
  });
});
