// The Election service's Observe, as a pure state machine (clientv3/concurrency's
// Election.Observe): it reports the leader, then every value the leader proclaims,
// then — once the leader's key is deleted — the next leader, and so on.
//
//   ranging    ask for the first-created key under the prefix
//     found    report it; follow its key from the next revision
//     none     await the first put under the prefix, from the range's revision
//   awaiting   the first put reports the new leader (at its mod revision); follow it
//   following  each put is a proclamation, reported; a delete means range again
//
// The host runs the actions (a linearizable range, one watch at a time) and feeds the
// answers back; a watch the machine has left must not be fed to it any more.

import { invariant, unreachable } from '../util/invariant.js';
import type { KeyValue, RangeResponse } from '../mvcc/types.js';
import type { WatchCreateRequest, WatchResponse } from '../watch/watchHub.js';
import { firstCreated, prefixRangeEnd } from './keys.js';

/** One LeaderResponse of the stream: the header's revision and the leader's key. */
export interface Observation {
  readonly revision: number;
  readonly kv: KeyValue;
}

export type ObserverAction =
  | { readonly kind: 'range'; readonly request: ReturnType<typeof firstCreated> }
  /** Stop the watch there is (if any) and start this one. */
  | { readonly kind: 'watch'; readonly request: WatchCreateRequest }
  /** Keep the current watch. */
  | { readonly kind: 'keep' }
  /** The watch ended (compacted history): the stream ends, as etcd's does. */
  | { readonly kind: 'end' };

export interface ObserverStep {
  readonly send: readonly Observation[];
  readonly next: ObserverAction;
}

type State =
  | { readonly kind: 'ranging' }
  | { readonly kind: 'awaiting' }
  | { readonly kind: 'following'; readonly key: Uint8Array }
  | { readonly kind: 'ended' };

export class LeaderObserver {
  private state: State = { kind: 'ranging' };
  private started = false;

  constructor(private readonly prefix: Uint8Array) {
    invariant(prefix.length > 0, 'an election prefix is never empty');
  }

  /** The first action: find the leader. */
  start(): ObserverAction {
    invariant(!this.started, 'an observer starts once');
    this.started = true;
    return { kind: 'range', request: firstCreated(this.prefix) };
  }

  get ended(): boolean {
    return this.state.kind === 'ended';
  }

  onRange(range: RangeResponse): ObserverStep {
    invariant(this.started && this.state.kind === 'ranging', () => `an observer got a range while ${this.started ? this.state.kind : 'not started'}`);
    invariant(range.kvs.length <= 1, 'the leader range has limit 1');
    const leader = range.kvs[0];
    if (leader === undefined) {
      this.state = { kind: 'awaiting' };
      const request = { key: this.prefix, rangeEnd: prefixRangeEnd(this.prefix), startRevision: range.revision };
      return { send: [], next: { kind: 'watch', request } };
    }
    return this.follow({ revision: range.revision, kv: leader });
  }

  onWatch(response: WatchResponse): ObserverStep {
    const state = this.state;
    invariant(state.kind === 'awaiting' || state.kind === 'following', () => `an observer got a watch response while ${state.kind}`);
    if (response.canceled) {
      this.state = { kind: 'ended' };
      return { send: [], next: { kind: 'end' } };
    }
    switch (state.kind) {
      case 'awaiting': {
        // Only a put names a leader; a delete under the prefix is another campaigner leaving.
        const put = response.events.find((e) => e.type === 'put');
        return put === undefined ? { send: [], next: { kind: 'keep' } } : this.follow({ revision: put.kv.modRevision, kv: put.kv });
      }
      case 'following': return this.proclamations(response);
      default: return unreachable(state, 'observer state');
    }
  }

  /** Reports a leader and follows its key from the revision after the report. */
  private follow(leader: Observation): ObserverStep {
    this.state = { kind: 'following', key: leader.kv.key };
    return { send: [leader], next: { kind: 'watch', request: { key: leader.kv.key, startRevision: leader.revision + 1 } } };
  }

  /** The followed key's events: puts are reported; a delete ends the leadership (what follows it is not read). */
  private proclamations(response: WatchResponse): ObserverStep {
    const send: Observation[] = [];
    for (const event of response.events) {
      if (event.type === 'delete') {
        this.state = { kind: 'ranging' };
        return { send, next: { kind: 'range', request: firstCreated(this.prefix) } };
      }
      send.push({ revision: response.revision, kv: event.kv });
    }
    return { send, next: { kind: 'keep' } };
  }
}
