// etcd's publish loop (etcdserver.publish): once it runs, a member publishes its name and
// client URLs through Raft, trying again until one attempt applies. Only then does it
// say "published local member to cluster through raft", the line harnesses wait for.
// Driven by the member's tick: at most one attempt is in flight; a failed one is retried
// on the tick after it failed, while a leader is known.

import type { EtcdError } from '../errors.js';
import type { EtcdServer } from '../server/server.js';
import { invariant } from '../util/invariant.js';

export interface PublisherOptions {
  readonly server: EtcdServer;
  readonly name: string;
  readonly clientUrls: readonly string[];
  /** Once, when the attributes applied here. */
  readonly onPublished: () => void;
  /** Each failed attempt (the log line etcd writes for it). */
  readonly onFailure?: (error: EtcdError) => void;
}

export class AttributePublisher {
  private state: 'idle' | 'inFlight' | 'published' = 'idle';
  attempts = 0;

  constructor(private readonly options: PublisherOptions) {
    invariant(typeof options.name === 'string', 'a member publishes a name');
  }

  get published(): boolean {
    return this.state === 'published';
  }

  /** Call on every tick: starts an attempt when none is in flight and a leader is known. */
  tick(): void {
    if (this.state !== 'idle') return;
    if (this.options.server.driver.status().lead === 0) return;
    this.state = 'inFlight';
    this.attempts++;
    this.options.server.publishAttributes({ name: this.options.name, clientUrls: this.options.clientUrls }, (error) => {
      if (error === null) {
        this.state = 'published';
        this.options.onPublished();
        return;
      }
      this.state = 'idle';
      this.options.onFailure?.(error);
    });
  }
}
