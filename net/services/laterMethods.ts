// The methods etcd 3.5 added to the client API, which etcd 3.4 — and so Tern — does not
// serve: Auth/AuthStatus and Maintenance/Downgrade. Clients built for 3.5 call them
// (the npm etcd3's `auth.authStatus()`, etcdctl 3.5's `auth status`), and 3.4 answers
// through grpc-go: UNIMPLEMENTED, "unknown method AuthStatus for service
// etcdserverpb.Auth". grpc-js would answer an unregistered path with its own text
// ("The server does not implement the method ..."), so these paths are registered with
// a handler that gives grpc-go's. The request is never decoded: grpc-go does not either,
// nor do its interceptors see the call, so the gRPC metrics do not count it.

import * as grpc from '@grpc/grpc-js';

/** The 3.5 additions by gRPC path; all unary. */
export const LATER_METHOD_PATHS: ReadonlySet<string> = new Set([
  '/etcdserverpb.Auth/AuthStatus',
  '/etcdserverpb.Maintenance/Downgrade',
]);

/** grpc-go's text for a method its server does not know in a service it does. */
export function unknownMethodText(path: string): string {
  const slash = path.lastIndexOf('/');
  const [service, method] = [path.slice(1, slash), path.slice(slash + 1)];
  return `unknown method ${method} for service ${service}`;
}

const passBytes = (bytes: Buffer): Buffer => bytes;

export function addLaterMethods(grpcServer: grpc.Server): void {
  for (const path of LATER_METHOD_PATHS) {
    const details = unknownMethodText(path);
    const handler: grpc.handleUnaryCall<Buffer, Buffer> = (_call, callback) => {
      callback({ code: grpc.status.UNIMPLEMENTED, details });
    };
    const added = grpcServer.register(path, handler, passBytes, passBytes, 'unary');
    if (!added) throw new Error(`${path} is already served`);
  }
}
