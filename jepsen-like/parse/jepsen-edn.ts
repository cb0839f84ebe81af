// Jepsen/Knossos EDN op maps -> paired operations, with Knossos's semantics:
// :fail ops did not happen and are dropped; :info ops and ops that never
// complete are unknown (return at +Infinity); an :info with no pending invoke
// (the nemesis) is not a client op.

import { HistoryFormatError } from '../history.js';
import type { EdnMap } from './edn-maps.js';
import { readEdnMaps } from './edn-maps.js';
import type { JepsenEvent, PairedOp } from './pair-events.js';
import { isEventType, pairEvents } from './pair-events.js';

export interface EdnOp extends PairedOp {
  /** The whole invoke map, for models that need more fields than :value (e.g. :key). */
  readonly invoke: Readonly<Record<string, unknown>>;
}

export function readJepsenEdn(text: string): EdnOp[] {
  const maps = readEdnMaps(text);
  const events: JepsenEvent[] = maps.map(toEvent);
  const mapByLine = new Map<number, EdnMap>(maps.map((m) => [m.line, m]));
  return pairEvents(events).map((op) => ({ ...op, invoke: mapByLine.get(op.line)?.value ?? {} }));
}

function toEvent(map: EdnMap): JepsenEvent {
  const { process, type, f, value } = map.value;
  if (typeof process !== 'number' && typeof process !== 'string') {
    throw new HistoryFormatError(map.line, 'missing or bad :process');
  }
  if (!isEventType(type)) throw new HistoryFormatError(map.line, 'missing or bad :type (expected :invoke, :ok, :fail or :info)');
  if (typeof f !== 'string') throw new HistoryFormatError(map.line, 'missing or bad :f');
  return { line: map.line, process, type, f, value: value ?? null };
}
