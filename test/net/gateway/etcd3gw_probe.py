"""One scenario through the real etcd3gw client (Debian python3-etcd3gw 2.0.0), for
test/net/etcd3gw.test.ts: run against real etcd 3.4 and against Tern, and the two
outputs must be equal.

Usage: /usr/bin/python3 etcd3gw_probe.py HOST PORT

Prints one line per step: values, counts, booleans and event kinds, never lease ids,
revisions, member ids or ports, which legitimately differ between two servers. A step
that raises prints the exception's class and message instead of stopping the run, so
one difference does not hide the next.
"""
import sys
import threading

from etcd3gw.client import Etcd3Client

# How long a watch may take to deliver events already in the history. Only a bound on
# a hang (a missing event prints what did arrive); not a timing assertion.
WATCH_WAIT_S = 60


def step(name, thunk):
    try:
        result = thunk()
    except Exception as error:  # noqa: BLE001 - the class is the output
        # etcd3gw keeps the response body (etcd's error JSON) apart from the reason.
        detail = getattr(error, 'detail_text', None)
        result = 'raised %s: %s%s' % (type(error).__name__, error, '' if detail is None else ' ' + detail.strip())
    print('%s: %s' % (name, result), flush=True)


def revision(client):
    return int(client.status()['header']['revision'])


def kv_steps(client):
    step('put foo', lambda: client.put('foo', 'bar'))
    step('get foo', lambda: client.get('foo'))
    step('get missing', lambda: client.get('missing'))
    step('create foo (exists)', lambda: client.create('foo', 'x'))
    step('create new', lambda: client.create('new', 'n'))
    step('replace foo bar->baz', lambda: client.replace('foo', 'bar', 'baz'))
    step('replace foo bar->qux (stale)', lambda: client.replace('foo', 'bar', 'qux'))
    step('get foo metadata', lambda: [
        (value, item['key'], item.get('version'), 'create_revision' in item, 'mod_revision' in item)
        for value, item in client.get('foo', metadata=True)])
    for key in ('p/b', 'p/a', 'p/c', 'q'):
        client.put(key, key.upper())
    step('get_prefix p/', lambda: [(item['key'], value) for value, item in client.get_prefix('p/')])
    step('get_prefix p/ descend', lambda: [
        item['key'] for _, item in client.get_prefix('p/', sort_order='descend')])
    step('get_prefix p/ by value', lambda: [
        value for value, _ in client.get_prefix('p/', sort_order='descend', sort_target='value')])
    step('get_all count', lambda: len(client.get_all()))
    step('delete q', lambda: client.delete('q'))
    step('delete missing', lambda: client.delete('missing'))
    step('delete_prefix p/', lambda: client.delete_prefix('p/'))
    step('get_prefix p/ after delete', lambda: client.get_prefix('p/'))


def lease_steps(client):
    lease = client.lease(ttl=60)
    step('lease id positive', lambda: lease.id > 0)
    step('put with lease', lambda: [client.put('l/1', 'one', lease=lease), client.put('l/2', 'two', lease=lease)])
    step('lease keys', lambda: sorted(lease.keys()))
    step('lease ttl in (0, 60]', lambda: 0 < lease.ttl() <= 60)
    step('lease refresh ttl', lambda: lease.refresh())
    step('lease revoke', lambda: lease.revoke())
    step('leased keys after revoke', lambda: client.get_prefix('l/'))
    step('ttl after revoke', lambda: lease.ttl())
    step('keys after revoke', lambda: lease.keys())
    step('refresh after revoke', lambda: lease.refresh())


def event_line(event):
    kv = event['kv']
    return (event.get('type', 'PUT'), kv['key'], kv.get('value'))


def collect(events, count):
    """Reads `count` events from a watch iterator on a thread, bounded by WATCH_WAIT_S."""
    seen = []
    done = threading.Event()

    def read():
        for event in events:
            seen.append(event_line(event))
            if len(seen) >= count:
                break
        done.set()

    threading.Thread(target=read, daemon=True).start()
    done.wait(WATCH_WAIT_S)
    return list(seen)


def watch_steps(client):
    # The watch starts at a revision from before the writes, so it sees them from the
    # history whatever the order in which the server registers it: no race.
    start = revision(client) + 1
    client.put('w/1', 'a')
    client.put('w/2', 'b')
    client.delete('w/1')
    client.put('other', 'not watched')
    client.put('w/3', 'c')
    events, cancel = client.watch_prefix('w/', start_revision=start)
    step('watch_prefix w/ history', lambda: collect(events, 4))
    # A live event after the history.
    client.put('w/4', 'd')
    step('watch_prefix w/ live', lambda: collect(events, 1))
    cancel()
    step('watch_once key', lambda: event_line(client.watch_once('w/2', timeout=WATCH_WAIT_S, start_revision=start)))
    step('watch_prefix_once', lambda: event_line(
        client.watch_prefix_once('w/', timeout=WATCH_WAIT_S, start_revision=start + 2)))
    step('watch prev_kv', lambda: prev_kv_event(client))
    step('watch big history', lambda: big_history(client))


def big_history(client):
    # etcd3gw parses each HTTP chunk as one JSON message: a server that split a large
    # message over chunks, or joined two in one, would lose events here.
    start = revision(client) + 1
    for i in range(200):
        client.put('big/%03d' % i, 'v' * 2048)
    events, cancel = client.watch_prefix('big/', start_revision=start)
    seen = collect(events, 200)
    cancel()
    return len(seen), len({key for _, key, _ in seen}), all(len(value) == 2048 for _, _, value in seen)


def prev_kv_event(client):
    start = revision(client) + 1
    client.put('pv', 'old')
    client.put('pv', 'new')
    event = client.watch_once('pv', timeout=WATCH_WAIT_S, start_revision=start + 1, prev_kv=True)
    return event_line(event) + (event.get('prev_kv', {}).get('value'),)


def lock_steps(client):
    first = client.lock('resource', ttl=60)
    second = client.lock('resource', ttl=60)
    step('lock acquire', lambda: first.acquire())
    step('lock is_acquired', lambda: first.is_acquired())
    step('second acquire (held)', lambda: second.acquire())
    step('second is_acquired', lambda: second.is_acquired())
    step('lock refresh ttl', lambda: first.refresh())
    step('second release (not holder)', lambda: second.release())
    step('lock release', lambda: first.release())
    step('second acquire (free)', lambda: second.acquire())
    step('second release', lambda: second.release())

    def with_context():
        with client.lock('ctx', ttl=60) as held:
            inside = held.is_acquired()
        return inside, client.get('ctx')
    step('lock context manager', with_context)


def cluster_steps(client):
    step('members', lambda: [
        (member.get('name'), member.get('peerURLs'), len(member.get('clientURLs', [])))
        for member in client.members()])
    status = client.status()
    step('status version', lambda: status.get('version'))
    step('status fields', lambda: sorted(status.keys()))
    step('status leader is member', lambda: status['leader'] == status['header']['member_id'])


def error_steps(client):
    # The client raises with the gateway's status reason and body: etcd's error JSON.
    lease = client.lease(ttl=60)
    lease.revoke()
    step('put with revoked lease', lambda: client.put('e/1', 'x', lease=lease))
    step('get future revision', lambda: client.get('foo', revision=revision(client) + 100))
    step('txn puts one key twice', lambda: client.transaction({'success': [
        {'request_put': {'key': 'YQ==', 'value': 'MQ=='}}, {'request_put': {'key': 'YQ==', 'value': 'Mg=='}}]}))
    step('lease ttl too large', lambda: client.lease(ttl=9000000001).id > 0)
    step('put empty key', lambda: client.put('', 'x'))


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    # etcd 3.4 serves /v3/ and /v3beta/; the client's default /v3alpha/ is a 404 there.
    client = Etcd3Client(host=host, port=port, api_path='/v3/')
    kv_steps(client)
    lease_steps(client)
    watch_steps(client)
    lock_steps(client)
    cluster_steps(client)
    error_steps(client)


if __name__ == '__main__':
    main()
