// Turns auth on for an auth benchmark, through the Auth gRPC calls both servers serve:
// root, and a user `bench` whose one role may read and write every key — so each request
// passes the full range check (root would pass a shortcut).

import * as grpc from '@grpc/grpc-js';
import { loadEtcdServices } from '../../proto/load.js';
import type { BenchUser } from './task.js';

export const BENCH_USER: BenchUser = { user: 'bench', password: 'bench-password' };

type Call = (request: object, callback: (error: grpc.ServiceError | null) => void) => void;

export async function enableBenchAuth(endpoint: string): Promise<void> {
  const Auth = grpc.makeGenericClientConstructor(loadEtcdServices().auth, 'Auth');
  const client = new Auth(endpoint, grpc.credentials.createInsecure()) as unknown as grpc.Client & Record<string, Call>;
  const call = (method: string, request: object): Promise<void> => new Promise((resolve, reject) => {
    const fn = client[method];
    if (fn === undefined) throw new Error(`no Auth method ${method}`);
    fn.call(client, request, (error) => { if (error === null) resolve(); else reject(error); });
  });
  try {
    await call('UserAdd', { name: 'root', password: 'root-password' });
    await call('RoleAdd', { name: 'root' });
    await call('UserGrantRole', { user: 'root', role: 'root' });
    await call('UserAdd', { name: BENCH_USER.user, password: BENCH_USER.password });
    await call('RoleAdd', { name: 'all-keys' });
    await call('RoleGrantPermission', { name: 'all-keys', perm: { permType: 'READWRITE', key: Buffer.from([0]), range_end: Buffer.from([0]) } });
    await call('UserGrantRole', { user: BENCH_USER.user, role: 'all-keys' });
    await call('AuthEnable', {});
  } finally {
    client.close();
  }
}
