// What etcd 3.4's gateway writes back, status line and headers included:
//
// - an answer: 200, application/json, and the gRPC response header the gateway's own
//   gRPC call received, as `Grpc-Metadata-Content-Type: application/grpc`;
// - an error from the RPC: grpc-gateway's body {"error":m,"message":m,"code":c} with the
//   HTTP status its HTTPStatusFromCode gives the gRPC code, sent chunked with the gRPC
//   trailer as `Grpc-Trailer-Content-Type` (a refused gRPC call is trailers only);
// - a body the gateway could not read: the same body with code 3 (400), no gRPC headers;
// - a wrong method or path: Go's http.Error text ("Method Not Allowed", "Not Found").
//
// The body's strings are escaped as Go's encoding/json escapes them; empty fields are
// left out as jsonpb leaves them out.

import * as grpc from '@grpc/grpc-js';
import type { ServerResponse } from 'node:http';
import { goJsonString } from '../auth/goJson.js';

/** grpc-gateway's HTTPStatusFromCode. */
const HTTP_STATUS: Readonly<Record<number, number>> = {
  [grpc.status.OK]: 200, [grpc.status.CANCELLED]: 408, [grpc.status.UNKNOWN]: 500, [grpc.status.INVALID_ARGUMENT]: 400,
  [grpc.status.DEADLINE_EXCEEDED]: 504, [grpc.status.NOT_FOUND]: 404, [grpc.status.ALREADY_EXISTS]: 409,
  [grpc.status.PERMISSION_DENIED]: 403, [grpc.status.UNAUTHENTICATED]: 401, [grpc.status.RESOURCE_EXHAUSTED]: 429,
  [grpc.status.FAILED_PRECONDITION]: 412, [grpc.status.ABORTED]: 409, [grpc.status.OUT_OF_RANGE]: 400,
  [grpc.status.UNIMPLEMENTED]: 501, [grpc.status.INTERNAL]: 500, [grpc.status.UNAVAILABLE]: 503, [grpc.status.DATA_LOSS]: 500,
};

export function httpStatusOf(code: number): number {
  return HTTP_STATUS[code] ?? 500;
}

/** Net/http's text for the statuses the gateway uses. */
const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'OK', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  408: 'Request Timeout', 409: 'Conflict', 412: 'Precondition Failed', 429: 'Too Many Requests', 500: 'Internal Server Error',
  501: 'Not Implemented', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? '';
}

/** A gRPC status as a handler reports it: a StatusObject's parts or an Error carrying them. */
export interface RpcFailure {
  readonly code: number;
  readonly message: string;
}

/** grpc-gateway's errorBody as jsonpb writes it: empty strings and a zero code left out. */
export function errorBody(failure: RpcFailure): string {
  const parts: string[] = [];
  if (failure.message !== '') parts.push(`"error":${goJsonString(failure.message)}`, `"message":${goJsonString(failure.message)}`);
  if (failure.code !== 0) parts.push(`"code":${failure.code}`);
  return `{${parts.join(',')}}`;
}

/** The RPC answered: its message as JSON. */
export function sendAnswer(response: ServerResponse, json: string): void {
  response.setHeader('Content-Type', 'application/json');
  response.setHeader('Grpc-Metadata-Content-Type', 'application/grpc');
  response.setHeader('Content-Length', Buffer.byteLength(json));
  response.writeHead(200);
  response.end(json);
}

/** The RPC failed: its status as the error body, its (trailers-only) metadata as an HTTP trailer. */
export function sendRpcFailure(response: ServerResponse, failure: RpcFailure): void {
  response.setHeader('Content-Type', 'application/json');
  response.setHeader('Trailer', 'Grpc-Trailer-Content-Type');
  response.writeHead(httpStatusOf(failure.code));
  response.write(errorBody(failure));
  response.addTrailers({ 'Grpc-Trailer-Content-Type': 'application/grpc' });
  response.end();
}

/** The request never became an RPC (unreadable body): the error body alone. */
export function sendRefusal(response: ServerResponse, failure: RpcFailure): void {
  const body = errorBody(failure);
  response.setHeader('Content-Type', 'application/json');
  response.setHeader('Content-Length', Buffer.byteLength(body));
  response.writeHead(httpStatusOf(failure.code));
  response.end(body);
}

/** Go's http.Error: the text and a newline, as plain text, not to be sniffed. */
export function sendHttpError(response: ServerResponse, status: number): void {
  const body = `${statusText(status)}\n`;
  response.setHeader('Content-Type', 'text/plain; charset=utf-8');
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('Content-Length', Buffer.byteLength(body));
  response.writeHead(status);
  response.end(body);
}

/** What a handler's callback error carries, as a code and a message. */
export function failureOf(error: unknown): RpcFailure {
  const e = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; details?: unknown; message?: unknown };
  const code = typeof e.code === 'number' ? e.code : grpc.status.UNKNOWN;
  const message = typeof e.details === 'string' ? e.details : typeof e.message === 'string' ? e.message : '';
  return { code, message };
}
