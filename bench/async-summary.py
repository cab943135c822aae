#!/usr/bin/env python3
"""async-summary.py - a Markdown summary of an async-profiler collapsed profile taken with `threads`
(and `total` for allocation): the event-loop threads' share, then for CPU the top frames inclusive
and self, and the part spent in the kernel entry (the io_uring/epoll system call) against Java; for
allocation the top classes and sites (the class, then the first frames below it that are not the
JDK's), as % of the event loops' bytes.

Usage: async-summary.py <collapsed file> <alloc|itimer|cpu|...> <requests per second or ''> [top]
"""
import collections
import re
import sys

path, event = sys.argv[1], sys.argv[2]
rps = sys.argv[3] if len(sys.argv) > 3 else ''
top = int(sys.argv[4]) if len(sys.argv) > 4 else 30

THREAD = re.compile(r'^\[(.*?)(?: tid=\d+)?\]$')
JDK = ('java/', 'jdk/', 'sun/', 'java.', 'jdk.', 'sun.')


def thread_kind(name):
    if name.startswith('relay-worker'):
        return 'event loops (relay-worker-*)'
    return re.sub(r'[-#]?\d+$', '', name) or name


by_thread = collections.Counter()
loop_total = 0
incl = collections.Counter()
self_ = collections.Counter()
classes = collections.Counter()
sites = collections.Counter()
for line in open(path, encoding='utf-8', errors='replace'):
    stack, _, value = line.rstrip('\n').rpartition(' ')
    if not stack:
        continue
    n = int(value)
    frames = stack.split(';')
    m = THREAD.match(frames[0])
    name = m.group(1) if m else '?'
    frames = frames[1:] if m else frames
    kind = thread_kind(name)
    by_thread[kind] += n
    if not kind.startswith('event loops'):
        continue
    loop_total += n
    leaf = frames[-1] if frames else '?'
    if event == 'alloc':
        cls = re.sub(r'_\[[ik]\]$', '', leaf)
        classes[cls] += n
        below = [f for f in reversed(frames[:-1]) if not f.startswith(JDK)][:3]
        sites[cls + ' ← ' + ' ← '.join(f.split('/')[-1] for f in below)] += n
    else:
        for f in set(frames):
            incl[f] += n
        self_[leaf] += n

total = sum(by_thread.values())
unit = 'bytes' if event == 'alloc' else 'samples'
print(f'## async-profiler, event {event}: {total} {unit} in all threads' + (f', {rps} req/s' if rps else ''))
print()
print('| % | threads |')
print('|---:|---|')
for kind, n in by_thread.most_common(8):
    print(f'| {100 * n / total:.1f} | {kind} |')
if not loop_total:
    sys.exit(0)


def table(title, counter):
    print()
    print(f'| % of the event loops | {title} |')
    print('|---:|---|')
    for key, n in counter.most_common(top):
        print(f'| {100 * n / loop_total:.1f} | `{key}` |')


if event == 'alloc':
    table('class', classes)
    table('site (class ← first frames outside the JDK)', sites)
else:
    entry = max((incl[f] for f in ('io/netty/channel/uring/Native.ioUringEnter',
                                   'io/netty/channel/epoll/Native.epollWait')), default=0)
    print()
    print(f'Event loops: {100 * entry / loop_total:.1f} % of their samples inside the io_uring/epoll '
          f'system call (the kernel sending and receiving), the rest in Java and the JVM.')
    table('frame, inclusive', incl)
    table('frame, self', self_)
