// Passwords as etcd keeps them: bcrypt hashes at --bcrypt-cost (etcd's default 10),
// made before a user change is proposed (never inside apply) and compared on the member
// an Authenticate reaches. bcryptjs is pure JavaScript (no compiler at install) and
// async, so a ~100 ms hash does not stall the member's event loop.

import bcrypt from 'bcryptjs';

/** etcd's default --bcrypt-cost (bcrypt.DefaultCost). */
export const DEFAULT_BCRYPT_COST = 10;

export interface Passwords {
  hash(password: string): Promise<string>;
  matches(password: string, hash: string): Promise<boolean>;
}

export function bcryptPasswords(cost: number = DEFAULT_BCRYPT_COST): Passwords {
  return {
    // Go's bcrypt writes the $2a$ variant; the same salt under $2a$ gives the same digest.
    hash: async (password) => bcrypt.hash(password, (await bcrypt.genSalt(cost)).replace(/^\$2b\$/, '$2a$')),
    matches: async (password, hash) => hash !== '' && bcrypt.compare(password, hash),
  };
}
