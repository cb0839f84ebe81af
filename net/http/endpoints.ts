// etcd 3.4's HTTP endpoints on the client port (and on --listen-metrics-urls):
// /version, /health and /metrics, with the same bodies, status codes and headers as
// etcd 3.4.23 (checked against it: test/net/http/endpoints.test.ts).
//
//   GET /version  200 {"etcdserver":"3.4.23","etcdcluster":"3.4.0"}
//   GET /health   200 {"health":"true"}; 503 {"health":"false"}\n while an alarm is raised
//                 (but those of the types in ?exclude=NOSPACE&exclude=…), without a leader,
//                 or when a read through Raft fails (3.4 carries no "reason" field; 3.5 added it)
//   GET /metrics  200 Prometheus text format 0.0.4
//   other paths   404 "404 page not found" (Go's http.NotFound)
//   /health and /version accept GET only (405 otherwise), as etcd does.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface HttpSources {
  /**
   * etcd 3.4's /health: false at once with an alarm raised whose type is not in
   * `excludedAlarms`, or without a leader; else whether a request through Raft completes
   * within a second (etcd issues a QGET; Tern a linearizable read).
   */
  readonly healthy: (excludedAlarms: ReadonlySet<string>) => Promise<boolean>;
  /** The Prometheus exposition, and its content type. */
  readonly metrics: () => Promise<{ readonly contentType: string; readonly body: string }>;
}

export const VERSION_BODY = JSON.stringify({ etcdserver: '3.4.23', etcdcluster: '3.4.0' });

/** The CORS headers etcd 3.4 puts on every client-port HTTP answer. */
const CORS: Readonly<Record<string, string>> = {
  'Access-Control-Allow-Headers': 'accept, content-type, authorization',
  'Access-Control-Allow-Methods': 'POST, GET, OPTIONS, PUT, DELETE',
  'Access-Control-Allow-Origin': '*',
};

export type EndpointSet = 'client' | 'metrics';

/** The JSON gateway (net/gateway/gateway.ts): answers the requests whose path is its own. */
export interface PathHandler {
  serve(request: IncomingMessage, response: ServerResponse): boolean;
}

/**
 * An HTTP/1.1 server answering etcd's endpoints ('metrics': only /metrics and /health,
 * as --listen-metrics-urls), and on the client set the gateway's paths if given.
 */
export function httpEndpoints(sources: HttpSources, set: EndpointSet = 'client', gateway?: PathHandler): Server {
  return createServer((request, response) => {
    if (set === 'client') {
      // etcd's access controller, in front of every client-port path: CORS everywhere, OPTIONS answered here.
      for (const [name, value] of Object.entries(CORS)) response.setHeader(name, value);
      if (request.method === 'OPTIONS') {
        response.setHeader('Content-Length', 0);
        response.writeHead(200);
        response.end();
        return;
      }
      if (gateway?.serve(request, response) === true) return;
    }
    route(sources, set, request, response).catch((error: unknown) => {
      sendError(response, 500, error instanceof Error ? error.message : String(error));
    });
  });
}

async function route(sources: HttpSources, set: EndpointSet, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const path = url.pathname;
  if (path === '/metrics') {
    const { contentType, body } = await sources.metrics();
    send(response, 200, contentType, body);
    return;
  }
  if (path === '/health' || (path === '/version' && set === 'client')) {
    if (request.method !== 'GET') {
      response.setHeader('Allow', 'GET');
      sendError(response, 405, 'Method Not Allowed');
      return;
    }
    if (path === '/version') {
      send(response, 200, 'application/json', VERSION_BODY);
      return;
    }
    const healthy = await sources.healthy(new Set(url.searchParams.getAll('exclude')));
    // etcd writes the healthy answer itself and the unhealthy one with http.Error (which adds "\n").
    if (healthy) send(response, 200, 'text/plain; charset=utf-8', '{"health":"true"}');
    else sendError(response, 503, '{"health":"false"}');
    return;
  }
  sendError(response, 404, '404 page not found');
}

/** Go's http.Error: text, a newline, and nosniff. */
function sendError(response: ServerResponse, status: number, text: string): void {
  response.setHeader('X-Content-Type-Options', 'nosniff');
  send(response, status, 'text/plain; charset=utf-8', `${text}\n`);
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  for (const [name, value] of Object.entries(CORS)) response.setHeader(name, value);
  response.setHeader('Content-Type', contentType);
  response.setHeader('Content-Length', Buffer.byteLength(body));
  response.writeHead(status);
  response.end(body);
}
