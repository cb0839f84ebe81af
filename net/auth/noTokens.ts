// etcd's nop token provider, for --auth-token '' (auth/nop.go): no token is ever made
// (Authenticate fails as for a wrong password) and none is ever valid.

import { INVALID_TOKEN, type TokenInfo, type TokenProvider } from '../../core/auth/tokens.js';
import { TokenSigningError } from './jwtTokens.js';

/** etcd's ErrAuthFailed, what tokenNop.assign returns. */
export const ERR_AUTH_FAILED = 'auth: authentication failed, invalid user ID or password';

export class NoTokens implements TokenProvider {
  /** Its Authenticate proposals need no drawn letters. */
  readonly kind = 'jwt';

  assign(): string {
    throw new TokenSigningError(ERR_AUTH_FAILED);
  }

  info(): TokenInfo {
    return INVALID_TOKEN;
  }

  invalidateUser(): void {
    // No tokens to drop.
  }

  disable(): void {
    // No tokens to forget.
  }

  sweep(): void {
    // No tokens expire.
  }
}
