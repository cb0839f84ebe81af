// grpc-js channel options for member-to-member traffic (the Peer service's server
// and every client stream to a peer).

/**
 * Raft messages carry snapshots (the whole key-value state): lift grpc-js's 4 MiB
 * default for peer traffic. And keep grpc-js's own reconnection backoff (1 s growing
 * to 120 s by default) within an election timeout: a peer that comes back must hear
 * heartbeats at once, or it campaigns needlessly, or a new member waits minutes to join.
 */
export const PEER_CHANNEL_OPTIONS = {
  'grpc.max_receive_message_length': 1 << 30,
  'grpc.max_send_message_length': 1 << 30,
  'grpc.initial_reconnect_backoff_ms': 50,
  'grpc.max_reconnect_backoff_ms': 500,
} as const;
