// etcd's nop token provider, for --auth-token '' (auth/nop.go): no token is ever made
// (Authenticate fails as for a wrong password) and none is ever valid.

import { INVALID_TOKEN, type TokenAssignment, type TokenContext, type TokenInfo, type TokenProvider } from '../../core/auth/tokens.js';
import { etcdError, type EtcdError } from '../../core/errors.js';

export class NoTokens implements TokenProvider {
  /** Its Authenticate proposals need no drawn letters. */
  readonly kind = 'jwt';

  /** etcd's tokenNop.assign: ErrAuthFailed, which clients get as etcdserver's "authentication failed". */
  assign(_assignment: TokenAssignment): EtcdError {
    return etcdError('authFailed');
  }

  info(_token: string, _context: TokenContext): TokenInfo {
    return INVALID_TOKEN;
  }

  invalidateUser(_user: string): void {
    // No tokens to drop.
  }

  disable(): void {
    // No tokens to forget.
  }

  sweep(_nowMs: number): void {
    // No tokens expire.
  }
}
